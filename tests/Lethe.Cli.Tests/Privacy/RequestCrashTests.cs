using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Privacy.Requests;
using Lethe.Storage.Postgres;
using Lethe.Testing;
using Lethe.Workspaces;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lethe.Cli.Tests.Privacy;

/// Issue 11, durable and resumable: a real `lethe serve` process is killed (SIGKILL, no chance to clean up) at random
/// points of an export and of an erasure running side by side, and started again on the same data. Every request
/// completes after the restart: the export with the data files and blobs of an uninterrupted export, byte for byte,
/// and the erasure with a clean residue scan, which the test checks on its own by searching the database and the blob
/// files for the person. Between the kill and the restart, a bundle in the blob store must be whole. The kill points
/// are random but replayable: the seed is printed, and LETHE_TEST_CRASH_SEED=N runs the same kills again.
public sealed class RequestCrashTests
{
    /// Kills per provider while each kind of request had not completed yet: issue 11 asks for at least 20.
    private const int Kills = 20;

    /// A kill counts for a request only if it had not completed yet; needing more rounds than this for 20 of each fails.
    private const int MaxRounds = 40;

    /// After the chosen step shows as started, the kill waits up to this long more: inside the step, not only at its start.
    private const int MaxExtraDelayMilliseconds = 60;

    private const string SeedVariable = "LETHE_TEST_CRASH_SEED";
    private const string Verification = "Identity checked by the crash test.";

    /// Scale users: enough for a person with data in every module, and for one disjoint person to erase per round.
    private const int Users = 200;

    /// The export's person also has a few job outputs: real bytes for the bundle's pipe, long enough to be killed in.
    private const int Outputs = 3;
    private const int OutputBytes = 2 << 20;

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Requests_killed_at_random_points_complete_after_a_restart_as_if_never_interrupted(DatabaseProvider provider)
    {
        var seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        Log($"{provider}: seed {seed} (replay with {SeedVariable}={seed})");
        var clock = Stopwatch.StartNew();
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        using var folders = new Folders();
        var world = await World.SeedAsync(database, folders.Data, MaxRounds + 1, Ct);
        Log($"seeded in {clock.Elapsed.TotalSeconds:0.0} s: exporting {world.A.Email}, erasing {world.Erased.Count} others");

        var servers = 0;
        var server = await Server.StartAsync(database, folders, ++servers);
        try
        {
            var officer = await server.OfficerAsync();

            // The uninterrupted runs every interrupted one must equal: an export of A, and an erasure of B0 that the
            // search must find before (or finding nothing after would prove nothing) and not after.
            var referenceExport = await FileExportAsync(officer, world.A);
            var referenceEnd = await WaitEndedAsync(officer, referenceExport.Id, server);
            Assert.Equal(PrivacyRequestStatuses.Completed, referenceEnd.Status);
            var reference = await BundleFilesAsync(officer, referenceExport.Id);
            Assert.Contains(reference.Keys, p => p.StartsWith("data/Workspaces/", StringComparison.Ordinal));
            Assert.Contains(reference.Keys, p => p.StartsWith("data/Labs/", StringComparison.Ordinal));
            Assert.Contains(reference.Keys, p => p.StartsWith("data/Gallery/", StringComparison.Ordinal));
            Assert.True(reference.Keys.Count(p => p.StartsWith("blobs/", StringComparison.Ordinal)) > Outputs, "A's bundle lacks the job outputs and history documents.");
            var exportSteps = referenceEnd.Steps.Count;

            var b0 = world.Erased[0];
            var before = await SearchAsync(database, folders.Data, [b0]);
            Assert.Contains(before, f => !f.StartsWith("blobs", StringComparison.Ordinal));
            Assert.Contains(before, f => f.StartsWith("blobs", StringComparison.Ordinal));
            var referenceErasure = await FileErasureAsync(officer, b0);
            var erasedEnd = await WaitEndedAsync(officer, referenceErasure.Id, server);
            AssertErased(erasedEnd);
            AssertNothingFound(await SearchAsync(database, folders.Data, [b0]), b0, "the uninterrupted erasure");
            var erasureSteps = erasedEnd.Steps.Count;
            Log($"references in {clock.Elapsed.TotalSeconds:0.0} s: export of {exportSteps} steps, {reference.Count} data files and blobs; erasure of {erasureSteps} steps");

            var killed = new Dictionary<string, int> { [PrivacyRequestTypes.Export] = 0, [PrivacyRequestTypes.Erasure] = 0 };
            var midStep = new Dictionary<string, int> { [PrivacyRequestTypes.Export] = 0, [PrivacyRequestTypes.Erasure] = 0 };
            var publishedUnrecorded = 0;
            var round = 0;
            while (killed[PrivacyRequestTypes.Export] < Kills || killed[PrivacyRequestTypes.Erasure] < Kills)
            {
                round++;
                Assert.True(round <= MaxRounds, $"Only {killed[PrivacyRequestTypes.Export]} exports and {killed[PrivacyRequestTypes.Erasure]} erasures were killed before they completed in {MaxRounds} rounds.");
                var random = new Random(unchecked((seed * 397) ^ round));
                var b = world.Erased[round];
                var export = await FileExportAsync(officer, world.A);
                var erasure = await FileErasureAsync(officer, b);

                // The kill point: a random step of one of the two (of the one killed fewer times so far), then a random
                // moment into it; or sooner, when the other one reaches its last step, so that it is killed unfinished
                // too (in the bundle's assembly or the residue scan).
                var onExport = killed[PrivacyRequestTypes.Export] == killed[PrivacyRequestTypes.Erasure]
                    ? random.Next(2) == 0
                    : killed[PrivacyRequestTypes.Export] < killed[PrivacyRequestTypes.Erasure];
                var step = random.Next(onExport ? exportSteps : erasureSteps);
                var delay = random.Next(MaxExtraDelayMilliseconds + 1);
                var trigger = onExport
                    ? await WaitForStepAsync(database, (export.Id, step), (erasure.Id, erasureSteps - 1), server)
                    : await WaitForStepAsync(database, (erasure.Id, step), (export.Id, exportSteps - 1), server);
                await Task.Delay(delay, Ct);
                await server.KillAsync();

                var states = await StatesAsync(database, [export.Id, erasure.Id]);
                foreach (var state in states)
                {
                    if (state.Status != PrivacyRequestStatus.Completed)
                    {
                        killed[state.Type.ToString()]++;
                    }
                    if (state.Status == PrivacyRequestStatus.Running && state.Steps.Exists(s => s.Status == StepStatus.Running))
                    {
                        midStep[state.Type.ToString()]++;
                    }
                }
                // Nothing half-written is ever visible: a bundle in the store is whole, even before it is recorded.
                var exportState = states.Single(s => s.Id == export.Id);
                if (await StoredBundleAsync(folders.Data, export.Id) is { } stored)
                {
                    Assert.True(stored.IsValid, $"Round {round}: the bundle in the store after the kill is not whole: {string.Join(" ", stored.Problems)}");
                    if (exportState.Status != PrivacyRequestStatus.Completed)
                    {
                        publishedUnrecorded++;
                    }
                }
                else
                {
                    Assert.NotEqual(PrivacyRequestStatus.Completed, exportState.Status);
                }

                await server.DisposeAsync();
                var restarted = Stopwatch.StartNew();
                server = await Server.StartAsync(database, folders, ++servers);
                var started = restarted.Elapsed;
                officer = await server.OfficerAsync();
                var exported = await WaitEndedAsync(officer, export.Id, server);
                var erased = await WaitEndedAsync(officer, erasure.Id, server);
                var finished = restarted.Elapsed;
                Log(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: killed {trigger} +{delay} ms: {string.Join("; ", states.Select(s => s.ToString()))}; up again in {started.TotalSeconds:0.0} s, both ended {finished.TotalSeconds:0.0} s after the restart"));

                Assert.True(exported.Status == PrivacyRequestStatuses.Completed, $"Round {round}: the export ended {exported.Status}: {exported.Failure}");
                Assert.All(exported.Steps, s => Assert.Equal(nameof(StepStatus.Completed), s.Status));
                AssertSameFiles(reference, await BundleFilesAsync(officer, export.Id), round);
                AssertErased(erased, round);
                AssertNothingFound(await SearchAsync(database, folders.Data, [b]), b, $"round {round}");
            }

            Assert.True(killed[PrivacyRequestTypes.Export] >= Kills && killed[PrivacyRequestTypes.Erasure] >= Kills);

            // Everything written since (by later rounds, restarts and recoveries) brought nobody back.
            var erasedPeople = world.Erased.Take(round + 1).ToList();
            var late = await SearchAsync(database, folders.Data, erasedPeople);
            Assert.True(late.Count == 0, "Erased people were found again at the end:\n" + string.Join("\n", late));
            Log(string.Create(CultureInfo.InvariantCulture,
                $"{provider}: {round} kills in {clock.Elapsed.TotalSeconds:0} s; before completion: {killed[PrivacyRequestTypes.Export]} exports ({midStep[PrivacyRequestTypes.Export]} inside a step), {killed[PrivacyRequestTypes.Erasure]} erasures ({midStep[PrivacyRequestTypes.Erasure]} inside a step); {publishedUnrecorded} bundles were published but not yet recorded"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static Task<PrivacyRequestResource> FileExportAsync(LetheClient officer, Person person)
        => officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest(PrivacyRequestTypes.Export, new PrivacySubject(Email: person.Email), Verification: Verification), Ct);

    /// Anonymizing retained lab data at once: then nothing of the person may stay anywhere.
    private static async Task<PrivacyRequestResource> FileErasureAsync(LetheClient officer, Person person)
    {
        var filed = await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest(PrivacyRequestTypes.Erasure, new PrivacySubject(Email: person.Email), AnonymizeNow: true, Verification: Verification), Ct);
        return await officer.ApprovePrivacyRequestAsync(filed.Id, "Approved by the crash test.", Ct);
    }

    private static async Task<PrivacyRequestResource> WaitEndedAsync(LetheClient officer, Guid id, Server server)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience);
        try
        {
            return await officer.WaitForPrivacyRequestAsync(id, pollInterval: TimeSpan.FromMilliseconds(100), untilApprovalNeeded: false, ct: timeout.Token);
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            var request = await officer.GetPrivacyRequestAsync(id, Ct);
            Assert.Fail($"Request {id} did not end within {Patience.TotalMinutes} minutes: {request.Status}, steps {string.Join(", ", request.Steps.Select(s => $"{s.Location} {s.Status}"))}\n{server.Log()}");
            throw;
        }
    }

    /// Polls the database until the target request has reached its step, or the other one its last step (or either
    /// ended): the kill comes while they work. Says which it was.
    private static async Task<string> WaitForStepAsync(TestDatabase database, (Guid Id, int Step) target, (Guid Id, int Step) other, Server server)
    {
        static bool Reached(RequestState state, int step)
            => state.Status is PrivacyRequestStatus.Completed or PrivacyRequestStatus.Failed || (state.Steps.Count > step && state.Steps[step].Status != StepStatus.Pending);

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var states = await StatesAsync(database, [target.Id, other.Id]);
            var first = states.Single(s => s.Id == target.Id);
            var second = states.Single(s => s.Id == other.Id);
            if (Reached(first, target.Step))
            {
                return string.Create(CultureInfo.InvariantCulture, $"at step {target.Step} of the {first.Type}");
            }
            if (Reached(second, other.Step))
            {
                return string.Create(CultureInfo.InvariantCulture, $"at the last step of the {second.Type} (before step {target.Step} of the {first.Type})");
            }
            if (deadline.Elapsed > Patience)
            {
                Assert.Fail($"The requests did not reach step {target.Step} of {target.Id} within {Patience.TotalMinutes} minutes: {first}; {second}\n{server.Log()}");
            }
            await Task.Delay(5, Ct);
        }
    }

    private static async Task<List<RequestState>> StatesAsync(TestDatabase database, Guid[] ids)
    {
        await using var db = database.CreateContext();
        var rows = await db.PrivacyRequests.AsNoTracking().Where(r => ids.Contains(r.Id))
            .Select(r => new { r.Id, r.Type, r.Status, r.Steps }).ToListAsync(Ct);
        return [.. rows.Select(r => new RequestState(r.Id, r.Type, r.Status, RequestWork.ReadSteps(r.Steps))).OrderBy(s => s.Type)];
    }

    private sealed record RequestState(Guid Id, PrivacyRequestType Type, PrivacyRequestStatus Status, List<RequestStep> Steps)
    {
        public override string ToString()
        {
            var done = Steps.Count(s => s.Status == StepStatus.Completed);
            var running = Steps.FirstOrDefault(s => s.Status == StepStatus.Running)?.Location;
            return $"{Type} {Status}, {done}/{Steps.Count} steps done{(running is null ? "" : $", in \"{running}\"")}";
        }
    }

    private static void AssertErased(PrivacyRequestResource erased, int round = 0)
    {
        Assert.True(erased.Status == PrivacyRequestStatuses.Completed, $"Round {round}: the erasure ended {erased.Status}: {erased.Failure}");
        Assert.All(erased.Steps, s => Assert.Equal(nameof(StepStatus.Completed), s.Status));
        Assert.Null(erased.Failure);
        // Anonymized at once: nothing is retained for later either.
        Assert.True(erased.Retained is null || erased.Retained.All(r => r.Records == 0), $"Round {round}: the erasure retained {string.Join(", ", erased.Retained!.Select(r => $"{r.Location} ({r.Records})"))}");
    }

    private static void AssertNothingFound(List<string> found, Person person, string when)
        => Assert.True(found.Count == 0, $"After {when}, {person.Email} ({person.ObjectId}) is still found in:\n{string.Join("\n", found)}");

    // ---- Bundles ------------------------------------------------------------------------------------------------

    /// The bundle's data files and blobs, by path: "bytes sha256" as its manifest states them, once the bundle is
    /// verified against the manifest (so the manifest's checksums are the files').
    private static async Task<Dictionary<string, string>> BundleFilesAsync(LetheClient officer, Guid id)
    {
        using var bundle = new MemoryStream();
        await officer.DownloadPrivacyBundleAsync(id, bundle, Ct);
        bundle.Position = 0;
        var verification = await BundleVerifier.VerifyAsync(bundle, Ct);
        Assert.True(verification.IsValid, $"The bundle of {id} does not verify: {string.Join(" ", verification.Problems)}");
        Assert.Equal(id, verification.RequestId);
        bundle.Position = 0;
        await using var zip = await ZipArchive.CreateAsync(bundle, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: null, Ct);
        var entry = await zip.GetEntry("manifest.json")!.OpenAsync(Ct);
        await using (entry)
        {
            using var manifest = await JsonDocument.ParseAsync(entry, cancellationToken: Ct);
            return manifest.RootElement.GetProperty("files").EnumerateArray()
                .Select(f => (Path: f.GetProperty("path").GetString()!, Text: $"{f.GetProperty("bytes").GetInt64()} {f.GetProperty("sha256").GetString()}"))
                .Where(f => f.Path.StartsWith("data/", StringComparison.Ordinal) || f.Path.StartsWith("blobs/", StringComparison.Ordinal))
                .ToDictionary(f => f.Path, f => f.Text, StringComparer.Ordinal);
        }
    }

    private static void AssertSameFiles(Dictionary<string, string> reference, Dictionary<string, string> files, int round)
    {
        var differences = reference.Keys.Union(files.Keys).Order(StringComparer.Ordinal)
            .Where(p => reference.GetValueOrDefault(p) != files.GetValueOrDefault(p))
            .Select(p => $"{p}: {reference.GetValueOrDefault(p) ?? "(none)"} uninterrupted, {files.GetValueOrDefault(p) ?? "(none)"} after the kill")
            .ToList();
        Assert.True(differences.Count == 0, $"Round {round}: the export's files differ from the uninterrupted export's:\n{string.Join("\n", differences)}");
    }

    /// The bundle as the blob store holds it (read while no server runs), verified; null when there is none.
    private static async Task<BundleVerification?> StoredBundleAsync(string data, Guid id)
    {
        var blobs = BlobStore(data);
        if (await blobs.GetPropertiesAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(id), Ct) is null)
        {
            return null;
        }
        using var copy = new MemoryStream();
        await using (var content = await blobs.OpenReadAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(id), Ct))
        {
            await content.CopyToAsync(copy, Ct);
        }
        copy.Position = 0;
        return await BundleVerifier.VerifyAsync(copy, Ct);
    }

    private static FileSystemBlobStore BlobStore(string data)
        => new(Path.Join(data, FileSystemBlobs.FolderName), new BlobOptions(), TimeProvider.System);

    // ---- The independent residue search ------------------------------------------------------------------------

    /// Where the people's email or object ID still is, searched without the engine: on SQLite the database file and its
    /// write-ahead log byte for byte (the object ID as text and as the 16 bytes of a GUID); on PostgreSQL every row of
    /// every table as text; and every file in the data folder (the blobs, live, deleted and half-written), but the
    /// export bundles, which are compressed and checked against the reference instead.
    private static async Task<List<string>> SearchAsync(TestDatabase database, string data, IReadOnlyList<Person> people)
    {
        var found = new List<string>();
        var texts = people.SelectMany(p => new[]
        {
            (p, p.Email), (p, p.Email.ToUpperInvariant()),
            (p, p.ObjectId.ToString("D")), (p, p.ObjectId.ToString("D").ToUpperInvariant()),
            (p, p.ObjectId.ToString("N")), (p, p.ObjectId.ToString("N").ToUpperInvariant()),
        }).Select(n => (Person: n.Item1, Bytes: Encoding.UTF8.GetBytes(n.Item2))).ToList();
        var binary = people.SelectMany(p => new[] { (Person: p, Bytes: p.ObjectId.ToByteArray()), (Person: p, Bytes: p.ObjectId.ToByteArray(bigEndian: true)) }).ToList();

        if (database.Provider == DatabaseProvider.Sqlite)
        {
            var file = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            {
                found.AddRange(SearchFile(file + suffix, Path.GetFileName(file + suffix), [.. texts, .. binary]));
            }
            if (found.Count > 0)
            {
                // Says whether the bytes are a live row or a stale copy in the file.
                found.AddRange(await SqliteRowsAsync(database, people));
            }
        }
        else
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync(Ct);
            var tables = new List<string>();
            await using (var list = new NpgsqlCommand("SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')", connection))
            await using (var reader = await list.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct))
                {
                    tables.Add(reader.GetString(0));
                }
            }
            var needles = people.SelectMany(p => new[] { p.Email.ToLowerInvariant(), p.ObjectId.ToString("D"), p.ObjectId.ToString("N") }).ToArray();
            foreach (var table in tables)
            {
                // The row as text holds every column: uuid, jsonb and arrays included.
#pragma warning disable CA2100 // The table names come from the catalog, quoted by quote_ident.
                await using var search = new NpgsqlCommand($"SELECT n FROM unnest(@needles) AS n WHERE EXISTS (SELECT 1 FROM {table} AS t WHERE strpos(lower(t::text), n) > 0)", connection);
#pragma warning restore CA2100
                search.Parameters.AddWithValue("needles", needles);
                await using var reader = await search.ExecuteReaderAsync(Ct);
                while (await reader.ReadAsync(Ct))
                {
                    found.Add($"table {table}: {reader.GetString(0)}");
                }
            }
        }

        foreach (var path in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(data, path);
            if (relative.StartsWith(Path.Join(FileSystemBlobs.FolderName, PrivacyBlobs.Container), StringComparison.Ordinal) && path.EndsWith(".zip", StringComparison.Ordinal))
            {
                continue;
            }
            found.AddRange(SearchFile(path, relative, texts));
        }
        return found;
    }

    /// Every row of every table as text, on SQLite: which live rows hold the people's email or object ID.
    private static async Task<List<string>> SqliteRowsAsync(TestDatabase database, IReadOnlyList<Person> people)
    {
        var found = new List<string>();
        await using var connection = new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync(Ct);
        var columns = new List<(string Table, string Column)>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT m.name, c.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c WHERE m.type = 'table'";
            await using var reader = await list.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        var needles = people.SelectMany(p => new[] { p.Email.ToUpperInvariant(), p.ObjectId.ToString("D").ToUpperInvariant(), p.ObjectId.ToString("N").ToUpperInvariant() }).ToList();
        foreach (var table in columns.GroupBy(c => c.Table))
        {
            var text = string.Join(" || '|' || ", table.Select(c => $"coalesce(CAST(\"{c.Column}\" AS TEXT), '')"));
            foreach (var needle in needles)
            {
                await using var search = connection.CreateCommand();
#pragma warning disable CA2100 // The names come from the schema.
                search.CommandText = $"SELECT COUNT(*) FROM \"{table.Key}\" WHERE instr(upper({text}), $needle) > 0";
#pragma warning restore CA2100
                search.Parameters.AddWithValue("$needle", needle);
                if (Convert.ToInt64(await search.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture) is var rows and > 0)
                {
                    found.Add($"live rows of {table.Key}: {rows} with {needle}");
                }
            }
        }
        return found;
    }

    private static IEnumerable<string> SearchFile(string path, string name, List<(Person Person, byte[] Bytes)> needles)
    {
        byte[] content;
        try
        {
            // Read beside the server, which may have the file open.
            // To its end as it is now: the log can be truncated (or grow) while it is read.
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            file.CopyTo(copy);
            content = copy.ToArray();
        }
        catch (FileNotFoundException)
        {
            yield break;
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        foreach (var (person, bytes) in needles)
        {
            if (content.AsSpan().IndexOf(bytes) >= 0)
            {
                yield return $"{name}: {person.Email}'s {(bytes.Length == 16 ? "object ID as bytes" : Encoding.UTF8.GetString(bytes))}";
            }
        }
    }

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    // ---- The data ----------------------------------------------------------------------------------------------

    private sealed record Person(Guid ObjectId, string Email);

    /// The scale data set with every run's history document: A is a person with runs (and some job outputs), lab VMs
    /// and gallery items; the erased people have runs too, and share no resource group with A, so that erasing them
    /// leaves A's data as it was.
    private sealed record World(Person A, IReadOnlyList<Person> Erased)
    {
        public static async Task<World> SeedAsync(TestDatabase database, string data, int erased, CancellationToken ct)
        {
            var blobs = BlobStore(data);
            await using (var db = database.CreateContext())
            {
                var copy = database.Provider == DatabaseProvider.Postgres ? PostgresStorage.BulkCopy : null;
                await ScaleData.RunAsync(new ScaleTarget(db, blobs, copy), new ScaleOptions { Users = Users, BatchSize = Users, HistoryDocuments = 1 }, null, ct);
            }

            await using var read = database.CreateContext();
            var users = await read.Users.AsNoTracking().Where(u => u.Email!.StartsWith(ScaleData.EmailPrefix))
                .Select(u => new { u.Id, Email = u.Email! }).ToListAsync(ct);
            var runs = await read.ExperimentRuns.GroupBy(r => r.SubmittedBy).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
            var vms = await read.LabVirtualMachines.Where(v => v.OwnerObjectId != null).GroupBy(v => v.OwnerObjectId!.Value).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
            var entities = await (from e in read.GalleryEntities join author in read.GalleryAuthors on e.AuthorId equals author.Id select author.UserId)
                .GroupBy(u => u).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
            var scopes = await read.RoleAssignments.AsNoTracking().Select(a => new { a.PrincipalId, a.ScopeKey }).ToListAsync(ct);
            // A resource group's scope is the first four segments of any scope at or below it.
            var groups = scopes.GroupBy(s => s.PrincipalId).ToDictionary(g => g.Key, g => g.Select(s => string.Join('/', s.ScopeKey.Split('/').Take(5))).ToHashSet(StringComparer.Ordinal));
            int Count(Dictionary<Guid, int> counts, Guid id) => counts.GetValueOrDefault(id);
            int Richness(Guid id) => Count(runs, id) + Count(vms, id) + Count(entities, id);

            var a = users.Where(u => Count(runs, u.Id) > 0 && Count(vms, u.Id) > 0 && Count(entities, u.Id) > 0)
                .OrderByDescending(u => Richness(u.Id)).ThenBy(u => u.Email, StringComparer.Ordinal).FirstOrDefault();
            Assert.True(a is not null, "No scale user has runs, lab VMs and gallery items: seed more users.");
            var groupsOfA = groups.GetValueOrDefault(a.Id) ?? [];
            var others = users.Where(u => u.Id != a.Id && Count(runs, u.Id) > 0 && !(groups.GetValueOrDefault(u.Id) ?? []).Overlaps(groupsOfA))
                .OrderByDescending(u => Richness(u.Id)).ThenBy(u => u.Email, StringComparer.Ordinal)
                .Take(erased).Select(u => new Person(u.Id, u.Email)).ToList();
            Assert.True(others.Count == erased, $"Only {others.Count} scale users share no resource group with A; {erased} are needed: seed more users.");

            // A few outputs of A's jobs, beside their history documents: what makes a bundle more than a few kilobytes.
            var outputs = await (from r in read.ExperimentRuns.AsNoTracking()
                                 join w in read.Workspaces.AsNoTracking() on r.WorkspaceId equals w.Id
                                 where r.SubmittedBy == a.Id
                                 orderby r.WorkspaceId, r.JobIdKey
                                 select new { w.StorageAccount, r.JobId }).Take(Outputs).ToListAsync(ct);
            var random = new Random(11);
            foreach (var output in outputs)
            {
                var bytes = new byte[OutputBytes];
                random.NextBytes(bytes);
                await blobs.PutAsync(output.StorageAccount, JobBlobs.Artifact(output.JobId, "outputs/model.bin"), new MemoryStream(bytes), "application/octet-stream", ct);
            }
            return new World(new Person(a.Id, a.Email), others);
        }
    }

    /// The data folder the servers share, and a folder for their logs beside it.
    private sealed class Folders : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), $"lethe-crash-{Guid.NewGuid():N}");

        public string Data => Path.Join(_root, "data");

        public string Logs => Path.Join(_root, "logs");

        public void Dispose()
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(_root))
            {
                Directory.Delete(_root, recursive: true);
            }
        }
    }

    // ---- The server process ------------------------------------------------------------------------------------

    /// One `lethe serve` process on the test's database and data folder, with the demo accounts (the officer files
    /// the requests). A short lease, so that the next process takes over a killed one's jobs soon after it starts.
    private sealed class Server : IAsyncDisposable
    {
        private readonly ServeProcess _server;

        private Server(ServeProcess server) => _server = server;

        public static async Task<Server> StartAsync(TestDatabase database, Folders folders, int number)
        {
            var environment = new Dictionary<string, string>
            {
                ["Lethe__Demo"] = "true",
                ["Lethe__Database__Provider"] = database.Provider.ToString(),
                // SQLite as a deployment opens it (pooled), not as the tests' contexts do.
                ["Lethe__Database__ConnectionString"] = database.Provider == DatabaseProvider.Sqlite
                    ? new SqliteConnectionStringBuilder { DataSource = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource }.ConnectionString
                    : database.ConnectionString,
                ["Lethe__Database__MigrateOnStart"] = "true",
                ["Lethe__Jobs__LeaseSeconds"] = "3",
                ["Lethe__Jobs__PollIntervalMilliseconds"] = "100",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            return new Server(await ServeProcess.StartAsync(folders.Data, environment, Path.Join(folders.Logs, $"server-{number}.log"), Patience, Ct));
        }

        public async Task<LetheClient> OfficerAsync()
        {
            var officer = new LetheClient(_server.Http);
            await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email, DemoAccounts.Password, Ct);
            return officer;
        }

        /// SIGKILL: the process ends at once, in whatever it was doing.
        public Task KillAsync() => _server.KillAsync();

        /// The end of what the process wrote, for a failure's message.
        public string Log() => _server.Log();

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }
}
