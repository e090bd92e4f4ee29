using System.Text;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Cli.Tests.Labs;

/// What the tests that kill a server in the middle of a lab usage export share (issue 12, item 6): a lab big enough
/// that its export runs for a while, the check that the export's files are whole, the sweep that removes a dead
/// writer's work files, and the look into a killed process's temporary folder.
internal static class KilledExport
{
    /// VMs (and as many disks) in the lab: each CSV is several MiB, more than one 4 MiB Azure block, so that the kill
    /// can come while a file is being written.
    public const int Resources = 12_000;

    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// Inserts <paramref name="count"/> live VMs, each with a data disk attached, in bulk through the database (the API
    /// would take thousands of calls). Object IDs are random GUIDs, never printed.
    public static async Task FillAsync(TestDatabase database, Guid labId, int count)
    {
        const int Batch = 2_000;
        var created = DateTimeOffset.UtcNow.AddDays(-10);
        for (var first = 0; first < count; first += Batch)
        {
            await using var db = database.CreateContext();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = first; i < Math.Min(count, first + Batch); i++)
            {
                var owner = Guid.NewGuid();
                var vm = new LabVirtualMachine
                {
                    Id = Guid.NewGuid(),
                    LabId = labId,
                    Name = $"vm-{i:D6}",
                    NameKey = $"vm-{i:D6}",
                    CreatedAt = created,
                    OwnerObjectId = owner,
                    PricingTier = "Standard_D2s_v3",
                    ImagePublisher = "Canonical",
                    ImageOffer = "ubuntu-24_04-lts",
                    ImageSku = "server",
                    ImageOsType = "Linux",
                    ImageVersion = "latest",
                };
                db.LabVirtualMachines.Add(vm);
                db.LabDisks.Add(new LabDisk
                {
                    Id = Guid.NewGuid(),
                    LabId = labId,
                    Name = $"vm-{i:D6}-data",
                    NameKey = $"vm-{i:D6}-data",
                    CreatedAt = created.AddMinutes(5),
                    OwnerObjectId = owner,
                    SizeGb = 128,
                    DiskType = 1,
                    BlobName = $"vm-{i:D6}-data.vhd",
                    LeasedByVmId = vm.Id,
                });
            }
            await db.SaveChangesAsync(Ct);
        }
    }

    /// Asserts that <paramref name="csv"/> is a whole export file: the seed's header, <paramref name="rows"/> data rows,
    /// the last one ended (CRLF). The rows hold no line break of their own (names and IDs only).
    public static async Task AssertWholeAsync(Stream csv, IReadOnlyList<string> columns, long rows, string what)
    {
        using var reader = new StreamReader(csv, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(Ct);
        Assert.True(text.EndsWith("\r\n", StringComparison.Ordinal), $"{what} does not end with a whole line.");
        var lines = text[..^2].Split("\r\n");
        Assert.Equal(columns, lines[0].Split(','));
        Assert.True(lines.Length - 1 == rows, $"{what} holds {lines.Length - 1} rows; the lab has {rows}.");
        Assert.All(lines.Skip(1), line => Assert.Contains("/virtualmachines/vm-", line, StringComparison.Ordinal));
    }

    /// Whatever a killed process left in its own temporary folder (TMPDIR): there must be nothing, as its writes of
    /// personal data go only where Lethe owns and sweeps them. The runtime's diagnostic sockets are switched off
    /// (DOTNET_EnableDiagnostics=0), so every entry that is not a folder counts.
    public static List<string> LeftIn(string temporaryFolder)
        => Directory.Exists(temporaryFolder)
            ? [.. Directory.EnumerateFiles(temporaryFolder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Select(f => Path.GetRelativePath(temporaryFolder, f))]
            : [];

    /// Makes the waiting run of a recurring sweep due now and waits for the server's own workers to finish it.
    public static async Task<Job> RunSweepAsync(TestDatabase database, string kind)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        Guid? run = null;
        while (DateTime.UtcNow < deadline)
        {
            await using var db = database.CreateContext();
            if (run is null)
            {
                var live = await db.Jobs.AsNoTracking().Where(j => j.Kind == kind && (j.State == JobState.Pending || j.State == JobState.Running)).ToListAsync(Ct);
                // A run in progress (the first, at start) ends first; then exactly one waits.
                if (live.Count == 1 && live[0].State == JobState.Pending)
                {
                    var id = live[0].Id;
                    run = id;
                    await db.Jobs.Where(j => j.Id == id && j.State == JobState.Pending)
                        .ExecuteUpdateAsync(set => set.SetProperty(j => j.RunAfter, DateTimeOffset.UtcNow.AddSeconds(-1)), Ct);
                }
            }
            else
            {
                var id = run.Value;
                var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, Ct);
                if (job.State is JobState.Succeeded or JobState.Failed)
                {
                    return job;
                }
            }
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException($"The {kind} sweep did not run within 90 s.");
    }

    public static async Task<Job> WaitForEndAsync(TestDatabase database, Guid id, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            await using var context = database.CreateContext();
            var job = await context.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, Ct);
            if (job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled)
            {
                return job;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Job {id} did not end within {patience.TotalSeconds:0} s: {job.State}, attempt {job.Attempt}, {job.Error}");
            await Task.Delay(20, Ct);
        }
    }

    public static async Task<LabUsageExportPayload> PayloadAsync(TestDatabase database, Guid job)
    {
        await using var db = database.CreateContext();
        var payload = await db.Jobs.AsNoTracking().Where(j => j.Id == job).Select(j => j.Payload).SingleAsync(Ct);
        return System.Text.Json.JsonSerializer.Deserialize<LabUsageExportPayload>(payload, Web)!;
    }
}
