using System.Buffers.Binary;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lethe.Blobs;
using Lethe.Gallery;
using Lethe.Identity;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Lethe.Demo;

/// The size of a scale data set and what makes it deterministic.
public sealed record ScaleOptions
{
    /// The data set holds this many scale users (indices 0 to Users - 1) when done.
    public required int Users { get; init; }

    /// The same seed gives the same data, row for row, on every machine and database.
    public int Seed { get; init; } = 1;

    /// Users (with everything that hangs off them) written per transaction.
    public int BatchSize { get; init; } = 5_000;

    /// Creation times lie in the two years before this instant; fixed so that the data does not depend on the day.
    /// Time series (a lab's daily costs) end the day before it.
    public DateTimeOffset Epoch { get; init; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// The share (0 to 1) of job runs that also get their job history document as a blob. One blob per run is a file
    /// (or an HTTP request) per run: at 10 million runs that would take hours, while the runs' rows take minutes.
    /// Which runs get one is fixed by the seed, so a benchmark finds the same documents on every machine.
    public double HistoryDocuments { get; init; } = 0.01;
}

/// What a scale run writes to: the database, the blob store (null: no part writes blobs), and the provider's
/// bulk path (null: prepared INSERT statements, which is what SQLite does best).
public sealed record ScaleTarget(LetheDb Db, IBlobStore? Blobs = null, IBulkCopy? Copy = null);

/// A resource group of the scale data set, as a module's part sees it.
/// <paramref name="Number"/> counts the groups of a subscription from 1 to <see cref="ScaleData.GroupsPerSubscription"/>:
/// a module that fills only some groups (labs in the upper half) chooses by it.
public sealed record ScaleGroup(int SubscriptionIndex, int Number, Guid SubscriptionId, string Name, string Location, DateTimeOffset CreatedAt)
{
    public ResourceId ResourceId => ResourceId.ForResourceGroup(SubscriptionId, Name);
}

/// A user of the scale data set and the roles made for them, as a module's part sees it.
public sealed record ScaleUser(int Index, Guid ObjectId, string Email, string DisplayName, DateTimeOffset CreatedAt, IReadOnlyList<(ScaleGroup Group, Role Role)> Roles);

/// What a module adds to the scale data set: rows per resource group (a lab, a workspace) and per
/// user (their VMs, jobs, gallery entities), as instances of its own entities. Each call gets a
/// Random seeded for that group or user and that part alone, so adding a part never changes the
/// rows the others make. Within one call, yield parents before the rows that reference them.
/// <paramref name="BeforeWrite"/> runs in each batch's transaction before its rows are written: for what the rows
/// need that is not a row (a blob a row points at, a number taken from a counter the rows must carry).
public sealed record ScalePart(
    string Name,
    Func<ScaleGroup, Random, IEnumerable<object>>? PerGroup = null,
    Func<ScaleUser, Random, IEnumerable<object>>? PerUser = null,
    Func<LetheDb, CancellationToken, Task>? BeforeWrite = null);

/// Makes a module's part for one run: it may first read what its rows depend on (a deployment secret).
public delegate Task<ScalePart> ScalePartFactory(ScaleTarget target, ScaleOptions options, CancellationToken ct);

public readonly record struct ScaleProgress(int UsersDone, int UsersToDo, long RowsWritten);

public sealed record ScaleResult(int UsersCreated, int TotalUsers, IReadOnlyDictionary<string, long> RowsByTable, TimeSpan Elapsed)
{
    public long Rows => RowsByTable.Values.Sum();
}

/// `lethe seed --scale N`: a large, deterministic data set for benchmarks, written in bulk.
/// Subscriptions of 10,000 users with 20 resource groups each; every user holds one to three roles
/// on groups of their subscription (and a few own the subscription). Scale users share one password,
/// hashed once, so that a benchmark can sign in as any of them. Each module adds its rows through its
/// <see cref="ScalePart"/> (<see cref="Parts"/>). Running it again with a larger N adds the missing users
/// with their rows; what exists is kept. A group's rows are written with its subscription, so a database
/// seeded before a module had its part keeps that subscription without the module's group rows: seed
/// such a database afresh.
public static class ScaleData
{
    public const string Password = "Lethe-scale-2026!";
    public const int UsersPerSubscription = 10_000;
    public const int GroupsPerSubscription = 20;

    /// `scale-000000042@lethe.test`: the .test domain is reserved and never delivers, and the
    /// zero-padded index sorts, so the highest index existing is one index seek away.
    public const string EmailPrefix = "scale-";
    public const string EmailDomain = "@lethe.test";

    /// Each module's part, in its own folder. Adding one changes none of the rows the others make.
    public static IReadOnlyList<ScalePartFactory> Parts { get; } = [WorkspacesScale.PartAsync, GalleryScale.PartAsync, LabsScale.PartAsync];

    private static readonly string[] Locations = ["westeurope", "northeurope", "francecentral", "germanywestcentral", "swedencentral", "eastus", "westus2"];
    private static readonly string[] FirstNames = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia", "Ken", "Margaret", "Dennis", "Hedy", "Tim", "Sophie", "Niklaus", "Karen", "Leslie", "Shafi", "Tony"];
    private static readonly string[] LastNames = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Perlman", "Thompson", "Hamilton", "Ritchie", "Lamarr", "Berners-Lee", "Wilson", "Wirth", "Jones", "Lamport", "Goldwasser", "Hoare"];

    public static string EmailFor(int index) => EmailPrefix + index.ToString("D9", CultureInfo.InvariantCulture) + EmailDomain;

    /// Identity and every module's part.
    public static async Task<ScaleResult> RunAsync(ScaleTarget target, ScaleOptions options, IProgress<ScaleProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var parts = new List<ScalePart>(Parts.Count);
        foreach (var factory in Parts)
        {
            parts.Add(await factory(target, options, ct));
        }
        return await RunAsync(target, options, parts, progress, ct);
    }

    public static async Task<ScaleResult> RunAsync(ScaleTarget target, ScaleOptions options, IReadOnlyList<ScalePart> parts, IProgress<ScaleProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Users);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.HistoryDocuments);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.HistoryDocuments, 1);
        var db = target.Db;
        var started = Stopwatch.GetTimestamp();
        // Nothing is read back: the change tracker would only cost memory.
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        db.ChangeTracker.QueryTrackingBehavior = QueryTrackingBehavior.NoTracking;
        // One connection for the whole run: its prepared statements and cache outlive each batch.
        await db.Database.OpenConnectionAsync(ct);
        var sqlite = db.Database.ProviderName == LetheDb.SqliteProvider;
        try
        {
            if (sqlite)
            {
                // SQLite's default page cache is 2 MB; the indexes on random GUIDs would miss it on most inserts.
                await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -262144", ct);
            }
            await using var inserts = new InsertStatements(db, maxParameters: sqlite ? 1 : 30_000);
            var writer = new BulkWriter(db, target.Copy ?? inserts, parts);
            return await WriteAsync(db, writer, options, parts, progress, started, ct);
        }
        finally
        {
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -2000", CancellationToken.None);
            }
            await db.Database.CloseConnectionAsync();
        }
    }

    /// Rows of any entities (parents before children), written through the same bulk path as the scale data, one
    /// transaction per <paramref name="batchSize"/> rows: what a benchmark or a test of a large data set writes its own
    /// shape with. Returns the rows written.
    public static async Task<long> WriteRowsAsync(ScaleTarget target, IEnumerable<object> rows, int batchSize, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var db = target.Db;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await db.Database.OpenConnectionAsync(ct);
        var sqlite = db.Database.ProviderName == LetheDb.SqliteProvider;
        try
        {
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -262144", ct);
            }
            await using var inserts = new InsertStatements(db, maxParameters: sqlite ? 1 : 30_000);
            var writer = new BulkWriter(db, target.Copy ?? inserts, []);
            var batch = new RowSet();
            var count = 0;
            foreach (var row in rows)
            {
                batch.Add(row);
                if (++count == batchSize)
                {
                    await writer.WriteAsync(batch, ct);
                    batch = new RowSet();
                    count = 0;
                }
            }
            await writer.WriteAsync(batch, ct);
            return writer.Rows;
        }
        finally
        {
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -2000", CancellationToken.None);
            }
            db.ChangeTracker.AutoDetectChangesEnabled = true;
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<ScaleResult> WriteAsync(LetheDb db, BulkWriter writer, ScaleOptions options, IReadOnlyList<ScalePart> parts, IProgress<ScaleProgress>? progress, long started, CancellationToken ct)
    {
        var first = await NextIndexAsync(db, ct);
        var subscriptions = Enumerable.Range(0, (options.Users + UsersPerSubscription - 1) / UsersPerSubscription)
            .Select(k => SubscriptionFor(options, k)).ToList();
        await WriteMissingSubscriptionsAsync(db, writer, options, subscriptions, parts, ct);

        var toDo = Math.Max(0, options.Users - first);
        progress?.Report(new ScaleProgress(0, toDo, writer.Rows));
        // One hash for every scale user: Identity's hasher runs 100,000 PBKDF2 rounds, far too slow per user.
        var passwordHash = new PasswordHasher<LetheUser>().HashPassword(new LetheUser(), Password);
        for (var start = first; start < options.Users; start += options.BatchSize)
        {
            var end = Math.Min(options.Users, start + options.BatchSize);
            var rows = new RowSet();
            for (var i = start; i < end; i++)
            {
                var subscription = subscriptions[i / UsersPerSubscription];
                var user = UserFor(options, i, subscription.Groups);
                rows.Add(ToEntity(user, passwordHash));
                rows.AddRange(RoleAssignmentsFor(user, subscription, options));
                foreach (var part in parts)
                {
                    if (part.PerUser is { } perUser)
                    {
                        rows.AddRange(perUser(user, Stream(options.Seed, i, part.Name)));
                    }
                }
            }
            await writer.WriteAsync(rows, ct);
            progress?.Report(new ScaleProgress(end - first, toDo, writer.Rows));
        }
        return new ScaleResult(toDo, options.Users, writer.RowsByTable, Stopwatch.GetElapsedTime(started));
    }

    /// The index after the highest scale user in the database, so that a second run adds to the first.
    private static async Task<int> NextIndexAsync(LetheDb db, CancellationToken ct)
    {
        var prefix = EmailPrefix.ToUpperInvariant();
        var highest = await db.Users.AsNoTracking()
            .Where(u => u.NormalizedUserName!.StartsWith(prefix))
            .OrderByDescending(u => u.NormalizedUserName)
            .Select(u => u.NormalizedUserName)
            .FirstOrDefaultAsync(ct);
        return highest is not null && int.TryParse(highest.AsSpan(prefix.Length, 9), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index + 1
            : 0;
    }

    private static async Task WriteMissingSubscriptionsAsync(LetheDb db, BulkWriter writer, ScaleOptions options, List<ScaleSubscription> subscriptions, IReadOnlyList<ScalePart> parts, CancellationToken ct)
    {
        var ids = subscriptions.Select(s => s.Id).ToList();
        var existing = (await db.Subscriptions.AsNoTracking().Where(s => ids.Contains(s.Id)).Select(s => s.Id).ToListAsync(ct)).ToHashSet();
        var rows = new RowSet();
        foreach (var subscription in subscriptions.Where(s => !existing.Contains(s.Id)))
        {
            rows.Add(new Subscription { Id = subscription.Id, DisplayName = subscription.DisplayName, CreatedAt = subscription.CreatedAt });
            foreach (var group in subscription.Groups)
            {
                rows.Add(new ResourceGroup { SubscriptionId = group.SubscriptionId, Name = group.Name, NameKey = group.Name.ToLowerInvariant(), Location = group.Location, CreatedAt = group.CreatedAt });
            }
            foreach (var group in subscription.Groups)
            {
                foreach (var part in parts)
                {
                    if (part.PerGroup is { } perGroup)
                    {
                        rows.AddRange(perGroup(group, Stream(options.Seed, group.SubscriptionIndex * GroupsPerSubscription + group.Number, part.Name + "/group")));
                    }
                }
            }
        }
        await writer.WriteAsync(rows, ct);
    }

    private sealed record ScaleSubscription(int Index, Guid Id, string DisplayName, DateTimeOffset CreatedAt, IReadOnlyList<ScaleGroup> Groups);

    private static ScaleSubscription SubscriptionFor(ScaleOptions options, int k)
    {
        var random = Stream(options.Seed, k, "subscription");
        var id = NewGuid(random);
        var createdAt = CreatedBefore(options.Epoch, random);
        var groups = Enumerable.Range(1, GroupsPerSubscription)
            .Select(g => new ScaleGroup(k, g, id, $"scale-rg-{g:D2}", Locations[random.Next(Locations.Length)], createdAt.AddDays(random.Next(30))))
            .ToList();
        return new ScaleSubscription(k, id, $"Scale {k + 1:D4}", createdAt, groups);
    }

    private static ScaleUser UserFor(ScaleOptions options, int index, IReadOnlyList<ScaleGroup> groups)
    {
        var random = Stream(options.Seed, index, "user");
        var id = NewGuid(random);
        var displayName = FirstNames[random.Next(FirstNames.Length)] + " " + LastNames[random.Next(LastNames.Length)];
        var createdAt = CreatedBefore(options.Epoch, random);
        // One to three roles on distinct groups: a principal holds a role once per scope.
        var count = 1 + random.Next(3);
        var picked = new List<(ScaleGroup, Role)>(count);
        var offset = random.Next(groups.Count);
        for (var r = 0; r < count; r++)
        {
            var roll = random.Next(100);
            var role = roll < 45 ? Role.Reader : roll < 75 ? Role.Contributor : roll < 95 ? Role.LabUser : Role.Owner;
            picked.Add((groups[(offset + r * 7) % groups.Count], role));
        }
        return new ScaleUser(index, id, EmailFor(index), displayName, createdAt, picked);
    }

    private static LetheUser ToEntity(ScaleUser user, string passwordHash)
    {
        var email = user.Email;
        return new LetheUser
        {
            Id = user.ObjectId,
            UserName = email,
            NormalizedUserName = email.ToUpperInvariant(),
            Email = email,
            NormalizedEmail = email.ToUpperInvariant(),
            EmailConfirmed = true,
            DisplayName = user.DisplayName,
            CreatedAt = user.CreatedAt,
            PasswordHash = passwordHash,
            // Identity refuses to sign in a user without a security stamp; derived from the object ID, so deterministic.
            SecurityStamp = user.ObjectId.ToString("N").ToUpperInvariant(),
            ConcurrencyStamp = user.ObjectId.ToString("D"),
            LockoutEnabled = true,
        };
    }

    private static IEnumerable<RoleAssignment> RoleAssignmentsFor(ScaleUser user, ScaleSubscription subscription, ScaleOptions options)
    {
        var random = Stream(options.Seed, user.Index, "roles");
        foreach (var (group, role) in user.Roles)
        {
            yield return RoleAssignment.Create(group.ResourceId, user.ObjectId, role, user.CreatedAt, NewGuid(random));
        }
        // One user in 200 owns their subscription.
        if (random.Next(200) == 0)
        {
            yield return RoleAssignment.Create(ResourceId.ForSubscription(subscription.Id), user.ObjectId, Role.Owner, user.CreatedAt, NewGuid(random));
        }
    }

    /// A time from the stream between two times (<paramref name="from"/> when they are out of order), to the second.
    public static DateTimeOffset Between(DateTimeOffset from, DateTimeOffset to, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return to <= from ? from : from.AddSeconds(random.NextInt64((long)(to - from).TotalSeconds + 1));
    }

    private static DateTimeOffset CreatedBefore(DateTimeOffset epoch, Random random)
        => epoch.AddSeconds(-random.NextInt64((long)TimeSpan.FromDays(730).TotalSeconds));

    /// A well-formed version 4 GUID, like the ones Guid.NewGuid makes, from the stream.
    public static Guid NewGuid(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }

    /// A version 7 GUID for <paramref name="at"/>, its random bits from the stream: like Guid.CreateVersion7, but
    /// deterministic. For tables of many rows keyed by a GUID (daily costs): keys that follow time land at the end of
    /// the primary key's index instead of on a random page of it.
    public static Guid NewGuid(Random random, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        var milliseconds = at.ToUnixTimeMilliseconds();
        // The layout of RFC 9562 (big-endian: 48 bits of Unix milliseconds, version, variant) as Guid's constructor reads it.
        BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)(milliseconds >> 16));
        BinaryPrimitives.WriteInt16LittleEndian(bytes[4..], (short)milliseconds);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x70);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }

    /// A GUID that a name within a parent always gives (the first 16 bytes of their SHA-256, as a version 8 GUID):
    /// a module finds a group's workspaces or lab from the group alone, without a random stream or a query.
    public static Guid DerivedGuid(Guid parent, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetMaxByteCount(name.Length)];
        parent.TryWriteBytes(input);
        var length = 16 + Encoding.UTF8.GetBytes(name, input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..length], hash);
        hash[7] = (byte)((hash[7] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16]);
    }

    /// The random stream of one (run seed, index, purpose). System.Random's seeded constructor takes
    /// 31 bits, so among 100,000s of users some would share a stream, and their GUIDs would collide;
    /// these streams start from distinct 64-bit states. string.GetHashCode is randomized per process,
    /// so the purpose is hashed with FNV-1a.
    public static Random Stream(int seed, long index, string purpose)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in purpose)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return new SplitMix64(hash ^ ((ulong)(uint)seed << 32) ^ (ulong)index);
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same numbers on every platform and .NET version.
    private sealed class SplitMix64(ulong state) : Random
    {
        private ulong _state = state;

        private ulong NextUInt64()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        // The modulo's bias is below 2^-32 for the small ranges test data uses.
        public override int Next() => (int)(NextUInt64() % int.MaxValue);
        public override int Next(int maxValue) => maxValue < 0 ? throw new ArgumentOutOfRangeException(nameof(maxValue)) : maxValue <= 1 ? 0 : (int)(NextUInt64() % (uint)maxValue);
        public override int Next(int minValue, int maxValue) => minValue > maxValue ? throw new ArgumentOutOfRangeException(nameof(minValue)) : (int)(minValue + NextInt64((long)maxValue - minValue));
        public override long NextInt64() => (long)(NextUInt64() % long.MaxValue);
        public override long NextInt64(long maxValue) => maxValue < 0 ? throw new ArgumentOutOfRangeException(nameof(maxValue)) : maxValue <= 1 ? 0 : (long)(NextUInt64() % (ulong)maxValue);
        public override long NextInt64(long minValue, long maxValue) => minValue > maxValue ? throw new ArgumentOutOfRangeException(nameof(minValue)) : minValue + (long)(maxValue == minValue ? 0 : NextUInt64() % (ulong)(maxValue - minValue));
        public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
        public override float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1U << 24));
        protected override double Sample() => NextDouble();
        public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

        public override void NextBytes(Span<byte> buffer)
        {
            while (buffer.Length >= 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer, NextUInt64());
                buffer = buffer[8..];
            }
            if (buffer.Length > 0)
            {
                Span<byte> last = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(last, NextUInt64());
                last[..buffer.Length].CopyTo(buffer);
            }
        }
    }

    /// Rows grouped by entity type, in the order their types first appear: parents before children.
    private sealed class RowSet
    {
        public List<(Type Type, List<object> Rows)> Tables { get; } = [];

        public void Add(object row)
        {
            var type = row.GetType();
            foreach (var (t, rows) in Tables)
            {
                if (t == type)
                {
                    rows.Add(row);
                    return;
                }
            }
            Tables.Add((type, [row]));
        }

        public void AddRange(IEnumerable<object> rows)
        {
            foreach (var row in rows)
            {
                Add(row);
            }
        }
    }

    /// One transaction per batch: the parts' <see cref="ScalePart.BeforeWrite"/>, then each table's rows through the
    /// bulk path, parents first.
    private sealed class BulkWriter(LetheDb db, IBulkCopy copy, IReadOnlyList<ScalePart> parts)
    {
        private readonly Dictionary<Type, BulkTable> _tables = [];

        public Dictionary<string, long> RowsByTable { get; } = new(StringComparer.Ordinal);
        public long Rows { get; private set; }

        public async Task WriteAsync(RowSet rows, CancellationToken ct)
        {
            if (rows.Tables.Count == 0)
            {
                return;
            }
            await using (var transaction = await db.Database.BeginTransactionAsync(ct))
            {
                foreach (var part in parts)
                {
                    if (part.BeforeWrite is { } before)
                    {
                        await before(db, ct);
                    }
                }
                var connection = db.Database.GetDbConnection();
                foreach (var (type, list) in rows.Tables)
                {
                    await copy.WriteAsync(connection, transaction.GetDbTransaction(), TableFor(type), list, ct);
                }
                await transaction.CommitAsync(ct);
            }
            foreach (var (type, list) in rows.Tables)
            {
                var name = TableFor(type).Name;
                RowsByTable[name] = RowsByTable.GetValueOrDefault(name) + list.Count;
                Rows += list.Count;
            }
        }

        private BulkTable TableFor(Type type)
        {
            if (!_tables.TryGetValue(type, out var table))
            {
                table = BulkTable.For(db, type);
                _tables[type] = table;
            }
            return table;
        }
    }

    /// INSERT statements built from the <see cref="BulkTable"/>: no change tracking, and each statement is prepared once
    /// and run again with new values. <paramref name="maxParameters"/>: SQLite finds each named parameter with a linear
    /// scan, so a statement's cost grows with the square of its parameters, and it has no round trips to save: one row
    /// per statement. PostgreSQL takes up to 65,535 parameters, and each statement saved is a round trip.
    private sealed class InsertStatements(LetheDb db, int maxParameters) : IBulkCopy, IAsyncDisposable
    {
        private readonly Dictionary<BulkTable, Statement> _statements = [];
        private readonly ISqlGenerationHelper _sql = db.GetService<ISqlGenerationHelper>();

        public async Task WriteAsync(DbConnection connection, DbTransaction transaction, BulkTable table, IReadOnlyList<object> rows, CancellationToken ct)
        {
            if (!_statements.TryGetValue(table, out var statement))
            {
                statement = new Statement(table, Math.Max(1, Math.Min(1_000, maxParameters / table.Columns.Count)));
                _statements[table] = statement;
            }
            for (var offset = 0; offset < rows.Count; offset += statement.RowsPerStatement)
            {
                var count = Math.Min(statement.RowsPerStatement, rows.Count - offset);
                var command = await statement.CommandAsync(count, transaction, _sql, ct);
                try
                {
                    var n = 0;
                    for (var r = offset; r < offset + count; r++)
                    {
                        foreach (var column in table.Columns)
                        {
                            command.Parameters[n++].Value = column.ValueOf(rows[r]) ?? DBNull.Value;
                        }
                    }
                    await command.ExecuteNonQueryAsync(ct);
                }
                finally
                {
                    // The full-size statement is kept for the next chunk; the last, shorter one is not.
                    if (count != statement.RowsPerStatement)
                    {
                        await command.DisposeAsync();
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var statement in _statements.Values)
            {
                await statement.DisposeAsync();
            }
        }
    }

    private sealed class Statement(BulkTable table, int rowsPerStatement) : IAsyncDisposable
    {
        private DbCommand? _full;

        public int RowsPerStatement => rowsPerStatement;

        /// An INSERT of <paramref name="rows"/> rows, its parameters typed by the model's mappings.
        /// The full-size one is prepared once: PostgreSQL then parses and plans it once, not per chunk.
        public async Task<DbCommand> CommandAsync(int rows, DbTransaction transaction, ISqlGenerationHelper sql, CancellationToken ct)
        {
            if (rows == rowsPerStatement && _full is not null)
            {
                _full.Transaction = transaction;
                return _full;
            }
            var command = transaction.Connection!.CreateCommand();
            command.Transaction = transaction;
            var columns = table.Columns;
            var text = new StringBuilder("INSERT INTO ").Append(table.DelimitedName).Append(" (")
                .AppendJoin(", ", columns.Select(c => sql.DelimitIdentifier(c.Name))).Append(") VALUES ");
            var n = 0;
            for (var r = 0; r < rows; r++)
            {
                text.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < columns.Count; c++)
                {
                    var parameter = "p" + n++;
                    text.Append(c == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(parameter));
                    command.Parameters.Add(columns[c].Mapping.CreateParameter(command, sql.GenerateParameterName(parameter), null, columns[c].Property.IsNullable));
                }
                text.Append(')');
            }
            command.CommandText = text.ToString();
            if (rows == rowsPerStatement)
            {
                await command.PrepareAsync(ct);
                _full = command;
            }
            return command;
        }

        public ValueTask DisposeAsync() => _full?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
