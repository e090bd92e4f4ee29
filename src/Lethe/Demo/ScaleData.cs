using System.Buffers.Binary;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lethe.Identity;
using Lethe.Resources;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
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
    public DateTimeOffset Epoch { get; init; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}

/// A resource group of the scale data set, as a module's part sees it.
public sealed record ScaleGroup(int SubscriptionIndex, Guid SubscriptionId, string Name, string Location, DateTimeOffset CreatedAt)
{
    public ResourceId ResourceId => ResourceId.ForResourceGroup(SubscriptionId, Name);
}

/// A user of the scale data set and the roles made for them, as a module's part sees it.
public sealed record ScaleUser(int Index, Guid ObjectId, string Email, string DisplayName, DateTimeOffset CreatedAt, IReadOnlyList<(ScaleGroup Group, Role Role)> Roles);

/// What a module adds to the scale data set: rows per resource group (a lab, a workspace) and per
/// user (their VMs, jobs, gallery entities), as instances of its own entities. Each call gets a
/// Random seeded for that group or user and that part alone, so adding a part never changes the
/// rows the others make. Within one call, yield parents before the rows that reference them.
public sealed record ScalePart(
    string Name,
    Func<ScaleGroup, Random, IEnumerable<object>>? PerGroup = null,
    Func<ScaleUser, Random, IEnumerable<object>>? PerUser = null);

public readonly record struct ScaleProgress(int UsersDone, int UsersToDo, long RowsWritten);

public sealed record ScaleResult(int UsersCreated, int TotalUsers, IReadOnlyDictionary<string, long> RowsByTable, TimeSpan Elapsed)
{
    public long Rows => RowsByTable.Values.Sum();
}

/// `lethe seed --scale N`: a large, deterministic data set for benchmarks, written in bulk.
/// Subscriptions of 10,000 users with 20 resource groups each; every user holds one to three roles
/// on groups of their subscription (and a few own the subscription). Scale users share one password,
/// hashed once, so that a benchmark can sign in as any of them. Running it again with a larger N
/// adds the missing users; what exists is kept.
public static class ScaleData
{
    public const string Password = "Lethe-scale-2026!";
    public const int UsersPerSubscription = 10_000;
    public const int GroupsPerSubscription = 20;

    /// `scale-000000042@lethe.test`: the .test domain is reserved and never delivers, and the
    /// zero-padded index sorts, so the highest index existing is one index seek away.
    public const string EmailPrefix = "scale-";
    public const string EmailDomain = "@lethe.test";

    /// Modules add their part here, e.g. <c>new ScalePart("labs", PerGroup: Labs.ScaleLab, PerUser: Labs.ScaleVms)</c>.
    public static IReadOnlyList<ScalePart> Parts { get; } = [];

    private static readonly string[] Locations = ["westeurope", "northeurope", "francecentral", "germanywestcentral", "swedencentral", "eastus", "westus2"];
    private static readonly string[] FirstNames = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia", "Ken", "Margaret", "Dennis", "Hedy", "Tim", "Sophie", "Niklaus", "Karen", "Leslie", "Shafi", "Tony"];
    private static readonly string[] LastNames = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Perlman", "Thompson", "Hamilton", "Ritchie", "Lamarr", "Berners-Lee", "Wilson", "Wirth", "Jones", "Lamport", "Goldwasser", "Hoare"];

    public static string EmailFor(int index) => EmailPrefix + index.ToString("D9", CultureInfo.InvariantCulture) + EmailDomain;

    public static Task<ScaleResult> RunAsync(LetheDb db, ScaleOptions options, IProgress<ScaleProgress>? progress, CancellationToken ct)
        => RunAsync(db, options, Parts, progress, ct);

    public static async Task<ScaleResult> RunAsync(LetheDb db, ScaleOptions options, IReadOnlyList<ScalePart> parts, IProgress<ScaleProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Users);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
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
            await using var writer = new BulkWriter(db, maxParameters: sqlite ? 1 : 30_000);
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
                        rows.AddRange(perGroup(group, Stream(options.Seed, group.SubscriptionIndex * GroupsPerSubscription + GroupNumber(group), part.Name + "/group")));
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
            .Select(g => new ScaleGroup(k, id, $"scale-rg-{g:D2}", Locations[random.Next(Locations.Length)], createdAt.AddDays(random.Next(30))))
            .ToList();
        return new ScaleSubscription(k, id, $"Scale {k + 1:D4}", createdAt, groups);
    }

    private static int GroupNumber(ScaleGroup group) => int.Parse(group.Name.AsSpan("scale-rg-".Length), CultureInfo.InvariantCulture);

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

    private static DateTimeOffset CreatedBefore(DateTimeOffset epoch, Random random)
        => epoch.AddSeconds(-random.NextInt64((long)TimeSpan.FromDays(730).TotalSeconds));

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        // A well-formed version 4 GUID, like the ones Guid.NewGuid makes.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
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

    /// INSERT statements built from the EF model, one transaction per batch. The model gives the
    /// table, the columns and each provider's value conversions (GUIDs as text and times as ticks on
    /// SQLite, enums as strings), so the rows are exactly what SaveChanges would write, at a fraction
    /// of the cost: no change tracking, and each statement is prepared once and run again with new values.
    /// <paramref name="maxParameters"/>: SQLite finds each named parameter with a linear scan, so a
    /// statement's cost grows with the square of its parameters, and it has no round trips to save:
    /// one row per statement. PostgreSQL takes up to 65,535 parameters, and each statement saved is a round trip.
    private sealed class BulkWriter(LetheDb db, int maxParameters) : IAsyncDisposable
    {
        private readonly Dictionary<Type, Table> _tables = [];
        private readonly ISqlGenerationHelper _sql = db.GetService<ISqlGenerationHelper>();

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
                foreach (var (type, list) in rows.Tables)
                {
                    var table = TableFor(type);
                    for (var offset = 0; offset < list.Count; offset += table.RowsPerStatement)
                    {
                        var count = Math.Min(table.RowsPerStatement, list.Count - offset);
                        var command = await table.CommandAsync(count, transaction.GetDbTransaction(), _sql, ct);
                        try
                        {
                            var n = 0;
                            for (var r = offset; r < offset + count; r++)
                            {
                                foreach (var column in table.Columns)
                                {
                                    command.Parameters[n++].Value = column.ValueOf(list[r]);
                                }
                            }
                            await command.ExecuteNonQueryAsync(ct);
                        }
                        finally
                        {
                            // The full-size statement is kept for the next chunk; the last, shorter one is not.
                            if (count != table.RowsPerStatement)
                            {
                                await command.DisposeAsync();
                            }
                        }
                    }
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

        public async ValueTask DisposeAsync()
        {
            foreach (var table in _tables.Values)
            {
                await table.DisposeAsync();
            }
        }

        private Table TableFor(Type type)
        {
            if (!_tables.TryGetValue(type, out var table))
            {
                var entity = db.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not an entity of the Lethe database.");
                var name = entity.GetTableName() ?? throw new InvalidOperationException($"{type.Name} is not mapped to a table.");
                var store = StoreObjectIdentifier.Table(name, entity.GetSchema());
                var columns = entity.GetProperties()
                    .Where(p => !IsIdentity(p))
                    .Select(p => new Column(p, p.GetColumnName(store) ?? throw new InvalidOperationException($"{type.Name}.{p.Name} has no column."), p.GetRelationalTypeMapping(), p.GetGetter()))
                    .ToList();
                table = new Table(name, _sql.DelimitIdentifier(name, entity.GetSchema()), columns, Math.Max(1, Math.Min(1_000, maxParameters / columns.Count)));
                _tables[type] = table;
            }
            return table;
        }

        // Integer keys that the database numbers itself (identity, autoincrement) are left to it.
        private static bool IsIdentity(IProperty property)
            => property.IsPrimaryKey() && property.ValueGenerated == ValueGenerated.OnAdd && (property.ClrType == typeof(int) || property.ClrType == typeof(long));
    }

    private sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Getter)
    {
        /// The value as the provider stores it, through the model's value converter.
        public object ValueOf(object entity)
        {
            var value = Getter.GetClrValueUsingContainingEntity(entity);
            if (value is not null && Mapping.Converter is { } converter)
            {
                value = converter.ConvertToProvider(value);
            }
            return value ?? DBNull.Value;
        }
    }

    private sealed class Table(string name, string delimited, IReadOnlyList<Column> columns, int rowsPerStatement) : IAsyncDisposable
    {
        private DbCommand? _full;

        public string Name => name;
        public IReadOnlyList<Column> Columns => columns;
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
            var text = new StringBuilder("INSERT INTO ").Append(delimited).Append(" (")
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
