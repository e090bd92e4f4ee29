using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Lethe.Identity;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Privacy;

/// One location's source with its declaration.
public sealed record LocatedSource(PersonalDataLocation Location, IPersonalDataSource Source);

/// The executable personal-data map for one scope: one source per location (the module's own where it registered
/// one, else the generic table source), in erasure order. It resolves a person to every key that finds them, and
/// runs find, export, erasure (or its dry run) and residue scans location by location. It never names a module.
public sealed class PersonalDataSources
{
    private readonly LetheDb _db;
    private readonly AuthorIds _authorIds;

    public PersonalDataSources(LetheDb db, PersonalDataMap map, IEnumerable<PersonalDataSourceFactory> factories, IServiceProvider services, AuthorIds authorIds)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(factories);
        _db = db;
        _authorIds = authorIds;
        Map = map;
        Custom = [.. factories.SelectMany(f => f.Create(services))];
        var registered = Custom.GroupBy(s => s.Location, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        InOrder = [.. map.ErasureOrder.Select(l => new LocatedSource(l, registered.TryGetValue(l.Name, out var s) ? s : Generic(db, l)))];
    }

    public PersonalDataMap Map { get; }

    /// The sources the modules registered (the map's check needs exactly one per location).
    public IReadOnlyList<IPersonalDataSource> Custom { get; }

    /// Every location's source, in the order an erasure runs them (exports use the same order).
    public IReadOnlyList<LocatedSource> InOrder { get; }

    public LocatedSource this[string location] => InOrder.FirstOrDefault(s => s.Location.Name == location)
        ?? throw new KeyNotFoundException($"No personal-data location is named {location}.");

    /// The generic source of a table location (public for tests that prove it on a model of their own).
    public static IPersonalDataSource Generic(LetheDb db, PersonalDataLocation location)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(location);
        if (location.Kind != "table")
        {
            return new MissingSource(location.Name);
        }
        var type = db.Model.GetEntityTypes().FirstOrDefault(e => e.ClrType.FullName == location.ClrType)?.ClrType
            ?? throw new InvalidOperationException($"{location.ClrType} is not in the model.");
        return (IPersonalDataSource)Activator.CreateInstance(typeof(TableSource<>).MakeGenericType(type), db, location)!;
    }

    /// Every key the person is known by: from the keys given, rows that each describe one person (the account, a
    /// gallery profile, a membership) are followed until no new key appears; an email also gives its author ID.
    public async Task<SubjectKeys> ResolveAsync(SubjectKeys given, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(given);
        var keys = given;
        for (var round = 0; round < 8; round++)
        {
            var found = keys;
            foreach (var email in keys.Emails)
            {
                found = found.With(new SubjectKeys { AuthorIds = new HashSet<string>(StringComparer.Ordinal) { await _authorIds.ForAsync(email, ct) } });
            }
            foreach (var located in InOrder.Where(s => s.Location.IsSubjectRecord))
            {
                // The table itself, whatever source erases it: only reads.
                if (Generic(_db, located.Location) is ISubjectKeySource generic)
                {
                    found = found.With(await generic.KeysOfMatchesAsync(keys, ct));
                }
            }
            if (keys.Covers(found))
            {
                return keys;
            }
            keys = found;
        }
        return keys;
    }

    /// The person's records, location by location, as the export bundle holds them.
    public async IAsyncEnumerable<(LocatedSource Source, JsonObject Record)> ExportAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var source in InOrder)
        {
            await foreach (var record in source.Source.FindAsync(keys, ct))
            {
                yield return (source, record);
            }
        }
    }

    /// Runs each location's erasure in order (or counts it, in a dry run), then makes the database files forget what
    /// was erased. Callers that checkpoint run the steps themselves (<see cref="LocatedSource"/>) and call
    /// <c>ScrubFilesAsync</c> at the end.
    public async Task<IReadOnlyList<(LocatedSource Source, ErasureResult Result)>> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var results = new List<(LocatedSource, ErasureResult)>();
        foreach (var source in InOrder)
        {
            results.Add((source, await source.Source.EraseAsync(keys, context, ct)));
        }
        if (!context.DryRun)
        {
            // Only the tables this erasure changed have dead row versions to vacuum.
            await ScrubFilesAsync(results.Where(r => r.Item1.Location.Kind == "table" && r.Item2.Records > 0 && r.Item2.Outcome != ErasureOutcome.Kept)
                .Select(r => r.Item1.Location.Name), ct);
        }
        return results;
    }

    public async Task<IReadOnlyList<(LocatedSource Source, Residue Residue)>> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
    {
        var results = new List<(LocatedSource, Residue)>();
        foreach (var source in InOrder)
        {
            results.Add((source, await source.Source.ScanAsync(keys, context, ct)));
        }
        return results;
    }

    /// Erased means gone from the files on disk. On SQLite, <c>secure_delete</c> zeroes the space a delete frees, but
    /// not the old copies of cells that a page rebalance leaves in the unused middle of a page (SQLite rebuilds a page
    /// without clearing that gap): a row or index entry that moved before it was deleted can survive there, byte for
    /// byte. So the file is rebuilt (<c>VACUUM</c> copies only the live rows into fresh pages) and then the write-ahead
    /// log, which held the old pages and now holds the rebuild, is checkpointed and truncated. The rebuild rewrites the
    /// whole file: an erasure is rare, approved by an officer, and SQLite is the small deployment's database. On
    /// PostgreSQL the touched tables are vacuumed, which prunes the dead row versions.
    public Task ScrubFilesAsync(IEnumerable<string> tables, CancellationToken ct) => ScrubFilesAsync(_db, tables, ct);

    public static async Task ScrubFilesAsync(LetheDb db, IEnumerable<string> tables, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tables);
        var touched = tables.Distinct(StringComparer.Ordinal).ToList();
        if (db.Database.ProviderName == LetheDb.SqliteProvider)
        {
            if (touched.Count > 0)
            {
                await db.Database.ExecuteSqlRawAsync("VACUUM;", ct);
            }
            await TruncateWriteAheadLogAsync(db, ct);
            return;
        }
        foreach (var table in touched)
        {
            // Table names come from the EF model, never from input.
#pragma warning disable EF1002
            await db.Database.ExecuteSqlRawAsync($"VACUUM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", ct);
#pragma warning restore EF1002
        }
    }

    /// A checkpoint that finds another connection still reading an older snapshot (or writing) after the busy timeout
    /// says so in its result instead of failing, and leaves the log as it is: it is tried again, then it fails (and
    /// the job with it, to be retried), rather than leave old pages in the log unnoticed.
    private static async Task TruncateWriteAheadLogAsync(LetheDb db, CancellationToken ct)
    {
        const int Attempts = 10;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                await using var result = await command.ExecuteReaderAsync(ct);
                // One row: busy (1 when the checkpoint could not finish), frames in the log, frames checkpointed.
                var busy = await result.ReadAsync(ct) && result.GetInt64(0) != 0;
                if (!busy)
                {
                    return;
                }
                if (attempt == Attempts)
                {
                    throw new InvalidOperationException($"The SQLite write-ahead log could not be truncated after {Attempts} attempts: other connections kept it busy.");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), ct);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// Stands in for a blob location whose module registered no source: the map's check refuses to start a server
    /// with one, so this only shows up in tests of a flawed map.
    private sealed class MissingSource(string location) : IPersonalDataSource
    {
        public string Location => location;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => throw Missing();

        public Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct) => throw Missing();

        public Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct) => throw Missing();

        private InvalidOperationException Missing() => new($"{location} has no source.");
    }
}
