using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lethe.Gallery;

/// A live published item as the catalog serves it.
public sealed record CatalogItem(
    Guid Id, string AuthorId, EntityKind Kind, string Name, string Description, ImmutableArray<string> Tags,
    Visibility Visibility, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long ChangeVersion)
{
    /// Where the Catalog API keeps this item's encoded answer once it has written it. An item is never changed (a
    /// change makes a new item), so what is kept here describes it for good; whatever it also depends on (the
    /// author's name) the writer keeps beside it and checks. Not part of the item's equality.
    public EncodingSlot Encoded { get; } = new();
}

/// A place for a cached encoding of an immutable item, filled by whoever writes it (a benign race: two writers
/// make equal values). Every slot equals every other, so that a record holding one keeps its field equality.
public sealed class EncodingSlot : IEquatable<EncodingSlot>
{
    private object? _value;

    public object? Value
    {
        get => Volatile.Read(ref _value);
        set => Volatile.Write(ref _value, value);
    }

    public bool Equals(EncodingSlot? other) => other is not null;

    public override bool Equals(object? obj) => obj is EncodingSlot;

    public override int GetHashCode() => 0;
}

/// An author's profile as the catalog serves it (seed 000's `/users/{authorId}`).
public sealed record CatalogProfile(
    string Id, Guid UserId, string Name, string Slug, string TenantId, string CommunityId, int EntitiesCount, double ContributionScore,
    DateTimeOffset? ScoredAt, DateTimeOffset? ContributedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, Guid ETag, long ChangeVersion);

public sealed record CatalogTokenEntry(string Hash, string AuthorId, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, long ChangeVersion);

/// One consistent copy of the catalog at <see cref="Version"/>: immutable, so a request reads it without locks
/// while the next copy is made.
public sealed class CatalogState
{
    public static readonly CatalogState Empty = new(-1,
        ImmutableDictionary<Guid, CatalogItem>.Empty,
        ImmutableDictionary<string, CatalogProfile>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, ImmutableArray<CatalogItem>>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, CatalogTokenEntry>.Empty.WithComparers(StringComparer.Ordinal));

    public CatalogState(long version, ImmutableDictionary<Guid, CatalogItem> entities, ImmutableDictionary<string, CatalogProfile> authors,
        ImmutableDictionary<string, ImmutableArray<CatalogItem>> byAuthor, ImmutableDictionary<string, CatalogTokenEntry> tokens)
    {
        Version = version;
        Entities = entities;
        _authors = authors;
        _byAuthor = byAuthor;
        // Read on every request: frozen copies (one hash, one or two memory reads) rather than the immutable trees the
        // next copy is built from (a dozen dependent reads for 10,000 authors). Made once per change, which is rare.
        Authors = authors.ToFrozenDictionary(StringComparer.Ordinal);
        ByAuthor = byAuthor.ToFrozenDictionary(StringComparer.Ordinal);
        Tokens = tokens;
    }

    public long Version { get; }

    /// Every live item, public and unlisted: the visibility rule is applied per request.
    public ImmutableDictionary<Guid, CatalogItem> Entities { get; }
    public FrozenDictionary<string, CatalogProfile> Authors { get; }
    private readonly ImmutableDictionary<string, CatalogProfile> _authors;

    /// Each author's live items, newest first.
    public FrozenDictionary<string, ImmutableArray<CatalogItem>> ByAuthor { get; }
    private readonly ImmutableDictionary<string, ImmutableArray<CatalogItem>> _byAuthor;

    /// Tokens by the SHA-256 of the token, revoked ones included so that the answer can say so.
    public ImmutableDictionary<string, CatalogTokenEntry> Tokens { get; }

    public string AuthorName(string authorId) => Authors.TryGetValue(authorId, out var a) ? a.Name : "";

    /// Answers made from this copy and kept with it by whoever made them, under a key of their choosing (the Catalog
    /// API keeps each author's public list here, by author ID). A new copy starts with none, so nothing kept here
    /// outlives the copy it was made from.
    public ConcurrentDictionary<string, object> Answers { get; } = new(StringComparer.Ordinal);

    /// The rows changed since this copy applied on top of it, as of <paramref name="version"/>. Applying a row
    /// twice, or a row newer than <paramref name="version"/>, is harmless: each row carries its own version.
    public CatalogState Apply(long version, IReadOnlyList<GalleryAuthor> authors, IReadOnlyList<GalleryEntity> entities, IReadOnlyList<CatalogToken> tokens)
    {
        var authorMap = _authors.ToBuilder();
        foreach (var a in authors)
        {
            if (!authorMap.TryGetValue(a.Id, out var old) || old.ChangeVersion <= a.ChangeVersion)
            {
                authorMap[a.Id] = new CatalogProfile(a.Id, a.UserId, a.Name, a.Slug, a.TenantId, a.CommunityId, a.EntitiesCount, a.ContributionScore,
                    a.ScoredAt, a.ContributedAt, a.CreatedAt, a.UpdatedAt, a.ETag, a.ChangeVersion);
            }
        }

        var entityMap = Entities.ToBuilder();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entities)
        {
            if (entityMap.TryGetValue(e.Id, out var old) && old.ChangeVersion > e.ChangeVersion)
            {
                continue;
            }
            touched.Add(e.AuthorId);
            if (e.UnpublishedAt is not null)
            {
                entityMap.Remove(e.Id);
            }
            else
            {
                entityMap[e.Id] = new CatalogItem(e.Id, e.AuthorId, e.Kind, e.Name, e.Description, [.. e.Tags], e.Visibility, e.CreatedAt, e.UpdatedAt, e.ChangeVersion);
            }
        }

        var byAuthor = _byAuthor;
        if (touched.Count > 0)
        {
            var builder = _byAuthor.ToBuilder();
            if (_byAuthor.IsEmpty && touched.Count > 1000)
            {
                // The first load: group once instead of once per author.
                foreach (var group in entityMap.Values.GroupBy(i => i.AuthorId, StringComparer.Ordinal))
                {
                    builder[group.Key] = [.. group.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id)];
                }
            }
            else
            {
                foreach (var authorId in touched)
                {
                    var mine = _byAuthor.TryGetValue(authorId, out var list) ? list : [];
                    var ids = new HashSet<Guid>(mine.Select(i => i.Id));
                    ids.UnionWith(entities.Where(e => e.AuthorId == authorId).Select(e => e.Id));
                    var items = ids.Select(id => entityMap.TryGetValue(id, out var i) ? i : null).OfType<CatalogItem>()
                        .OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id).ToImmutableArray();
                    if (items.IsEmpty)
                    {
                        builder.Remove(authorId);
                    }
                    else
                    {
                        builder[authorId] = items;
                    }
                }
            }
            byAuthor = builder.ToImmutable();
        }

        var tokenMap = Tokens.ToBuilder();
        foreach (var t in tokens)
        {
            if (!tokenMap.TryGetValue(t.Hash, out var old) || old.ChangeVersion <= t.ChangeVersion)
            {
                tokenMap[t.Hash] = new CatalogTokenEntry(t.Hash, t.AuthorId, t.ExpiresAt, t.RevokedAt, t.ChangeVersion);
            }
        }
        return new CatalogState(version, entityMap.ToImmutable(), authorMap.ToImmutable(), byAuthor, tokenMap.ToImmutable());
    }
}

/// The catalog served from memory, exact on one node and on many (decision 0020).
///
/// A catalog change is acknowledged to its writer only after <see cref="GalleryOptions.CommitWait"/> has passed
/// since its commit (<see cref="ChangedAsync"/>). Each node reads the catalog's version in the background while it
/// has traffic, every tenth of that wait, and answers from its copy without a database read as long as the copy holds
/// a version read that started less than half the wait ago. So whatever was acknowledged before a request arrived,
/// on any node, committed before that read started and is in the copy: a visibility change, an unpublish or a
/// revoked token is never answered from a stale copy. Only durations are compared, each on one node's monotonic
/// clock, never two nodes' times.
///
/// When the copy holds no such recent read (an idle node, a slow database), the request waits for a read that
/// starts after it arrived instead; that read is shared by every request that arrived while the previous one ran.
public sealed class GalleryCatalog(IServiceScopeFactory scopes, IOptions<GalleryOptions> options) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly TimeSpan _commitWait = options.Value.CommitWait;
    private readonly long _trustTicks = (long)(options.Value.CommitWait.TotalSeconds / 2 * Stopwatch.Frequency);
    private readonly long _trustWallTicks = options.Value.CommitWait.Ticks / 2;
    private readonly TimeSpan _pollEvery = options.Value.CommitWait / 10;
    private TaskCompletionSource<long>? _waiting;
    private Thread? _loop;
    private bool _disposed;
    private volatile CatalogState _state = CatalogState.Empty;
    private volatile DbProviderFactory? _factory;
    private string? _connectionString;
    private volatile bool _singleProcess;

    /// When the newest version read that the copy holds started: a Stopwatch timestamp (0: none yet) and the UTC
    /// time in ticks. The monotonic clock does not count a suspended machine; the wall clock is stepped forward when it
    /// wakes. A read is trusted only while both say it is recent (and the wall clock did not step back).
    private long _heldReadStarted;
    private long _heldReadStartedUtc;

    /// When a request last asked for the catalog (a Stopwatch timestamp): the background reads stop after a second without.
    private long _lastDemand;

    /// How many version reads this node made, background and on demand: for diagnostics and tests.
    public long VersionReads => Interlocked.Read(ref _versionReads);
    private long _versionReads;

    /// The copy as of now, possibly stale: for diagnostics and tests only.
    public CatalogState Current => _state;

    /// A copy that holds every change committed before this call.
    public async ValueTask<CatalogState> FreshAsync(CancellationToken ct)
    {
        var state = _state;
        // SQLite: one process owns the data folder and makes every change through GalleryWrites, which
        // brings the copy up to date (ChangedAsync) before it answers; a loaded copy is therefore current.
        if (_singleProcess && state.Version >= 0)
        {
            return state;
        }
        var now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _lastDemand, now);
        // The read's start is published after the copy that holds it, so the copy read next is at least that one.
        var held = Volatile.Read(ref _heldReadStarted);
        if (held != 0 && now - held < _trustTicks)
        {
            var wall = DateTime.UtcNow.Ticks - Volatile.Read(ref _heldReadStartedUtc);
            if (wall >= 0 && wall < _trustWallTicks)
            {
                return _state;
            }
        }
        await DiscoverAsync();
        // Not cancelled with the request: the read is shared, bounded (30 s), and usually a fraction of a millisecond.
        var version = _singleProcess ? await ReadVersionAsync() : await NextVersionReadAsync();
        state = _state;
        return state.Version >= version ? state : await CatchUpAsync(version, ct);
    }

    /// Called after every committed catalog change (and by anything else that writes the catalog's tables): the copy
    /// holds the change before the writer answers, and with several nodes (PostgreSQL) the answer waits until
    /// <see cref="GalleryOptions.CommitWait"/> has passed since the commit, by when every node's copy holds it.
    public async Task ChangedAsync(CancellationToken ct)
    {
        var committed = Stopwatch.GetTimestamp();
        var version = await ReadVersionAsync();
        if (_state.Version < version)
        {
            await CatchUpAsync(version, ct);
        }
        if (!_singleProcess)
        {
            var left = _commitWait - Stopwatch.GetElapsedTime(committed);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, CancellationToken.None);
            }
        }
    }

    /// The read that this request will wait for: the next one to start. The loop thread takes the whole waiting group
    /// at once when it starts a read, so every member of a group arrived before its read began.
    private Task<long> NextVersionReadAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_waiting is null)
            {
                _waiting = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                _loop ??= StartLoop();
                _wake.Set();
            }
            return _waiting.Task;
        }
    }

    /// The version reads run on a thread of their own, with blocking I/O, not on the thread pool: under load the pool's
    /// queues are long, and a read whose completion waited in them made every request behind it wait too. A blocked
    /// thread is woken by the database's answer at once and hands the version to the waiting group.
    private Thread StartLoop()
    {
        var thread = new Thread(ReadLoop) { IsBackground = true, Name = LoopApplicationName };
        thread.Start();
        return thread;
    }

    private void ReadLoop()
    {
        while (true)
        {
            // With recent traffic a read every tenth of the commit wait keeps the copy trusted; without, sleep until asked.
            var busy = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastDemand)) < IdleAfter;
            if (busy)
            {
                _wake.Wait(_pollEvery);
            }
            else
            {
                _wake.Wait();
            }
            TaskCompletionSource<long>? group;
            lock (_gate)
            {
                _wake.Reset();
                group = _waiting;
                _waiting = null;
                if (_disposed)
                {
                    group?.TrySetException(new ObjectDisposedException(nameof(GalleryCatalog)));
                    DropLoopConnection();
                    return;
                }
            }
            if (group is null && !busy)
            {
                continue;
            }
            try
            {
                var startedUtc = DateTime.UtcNow.Ticks;
                var started = Stopwatch.GetTimestamp();
                var version = ReadOnLoopConnection();
                Interlocked.Increment(ref _versionReads);
                if (_state.Version < version)
                {
                    // This thread has nothing better to do; the requests waiting on it need the rows anyway.
                    CatchUpAsync(version, CancellationToken.None).GetAwaiter().GetResult();
                }
                Volatile.Write(ref _heldReadStartedUtc, startedUtc);
                Volatile.Write(ref _heldReadStarted, started);
                group?.SetResult(version);
            }
            catch (Exception e)
            {
                group?.SetException(e);
            }
        }
    }

    /// After this long without a request the background reads stop; the next request reads on demand and starts them again.
    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(1);

    private const string VersionSql = "SELECT \"Value\" FROM \"GalleryCatalogVersions\" WHERE \"Id\" = 1";

    /// The loop's own connection, with the version read prepared on it: under load the loop reads back to back, and a
    /// prepared statement on a kept connection spares the database a parse, a plan and a pool reset per read. Only
    /// the loop thread uses it; <see cref="ChangedAsync"/> reads on a pooled connection.
    private DbCommand? _loopCommand;

    /// The version on the kept connection. A kept connection that fails (closed by the server, a network error) is
    /// dropped and the read tried once more on a new one, so an idle timeout never fails a group of requests.
    private long ReadOnLoopConnection()
    {
        var reused = _loopCommand is not null;
        try
        {
            return ReadOnceOnLoopConnection();
        }
        catch (Exception) when (reused)
        {
            return ReadOnceOnLoopConnection();
        }
    }

    private long ReadOnceOnLoopConnection()
    {
        try
        {
            if (_loopCommand is null)
            {
                var connection = _factory!.CreateConnection() ?? throw new InvalidOperationException("The provider made no connection.");
                connection.ConnectionString = LoopConnectionString();
                connection.Open();
                var command = connection.CreateCommand();
                command.CommandText = VersionSql;
                // A bounded wait: a stuck database fails the waiting requests instead of hanging them.
                command.CommandTimeout = 30;
                command.Prepare();
                _loopCommand = command;
            }
            return Convert.ToInt64(_loopCommand.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception)
        {
            DropLoopConnection();
            throw;
        }
    }

    /// The application's connection string, named so that an operator sees the kept connection for what it is.
    private string LoopConnectionString()
    {
        var builder = _factory!.CreateConnectionStringBuilder();
        if (builder is null)
        {
            return _connectionString!;
        }
        builder.ConnectionString = _connectionString;
        if (builder.ContainsKey(LoopApplicationNameKey))
        {
            builder[LoopApplicationNameKey] = LoopApplicationName;
        }
        return builder.ConnectionString;
    }

    private const string LoopApplicationNameKey = "Application Name";

    /// The application name of the read loop's kept connection (PostgreSQL's `pg_stat_activity.application_name`).
    public const string LoopApplicationName = "Lethe catalog version reads";

    private void DropLoopConnection()
    {
        var command = Interlocked.Exchange(ref _loopCommand, null);
        if (command is not null)
        {
            var connection = command.Connection;
            command.Dispose();
            connection?.Dispose();
        }
    }

    /// One indexed single-row read on a pooled connection of the provider, without a DbContext.
    private async Task<long> ReadVersionAsync()
    {
        await DiscoverAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var read = _factory!.CreateConnection() ?? throw new InvalidOperationException("The provider made no connection.");
        read.ConnectionString = _connectionString;
        await read.OpenAsync(timeout.Token);
        await using var command = read.CreateCommand();
        command.CommandText = VersionSql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(timeout.Token), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// The provider and connection string of the application's database, found once.
    private async Task DiscoverAsync()
    {
        if (_factory is not null)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
        var connection = db.Database.GetDbConnection();
        _connectionString = connection.ConnectionString;
        _singleProcess = db.Database.ProviderName == LetheDb.SqliteProvider;
        _factory = DbProviderFactories.GetFactory(connection) ?? throw new InvalidOperationException("The database provider has no DbProviderFactory.");
    }

    public void Dispose()
    {
        Thread? loop;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            loop = _loop;
            _wake.Set();
        }
        // The loop drops its connection as it ends; a loop stuck in a read past the wait keeps its event.
        if (loop is null || loop.Join(TimeSpan.FromSeconds(5)))
        {
            DropLoopConnection();
            _wake.Dispose();
        }
        _refresh.Dispose();
    }

    private async Task<CatalogState> CatchUpAsync(long version, CancellationToken ct)
    {
        await _refresh.WaitAsync(ct);
        try
        {
            var state = _state;
            if (state.Version >= version)
            {
                return state;
            }
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            var since = state.Version;
            // An erasure deleted rows after this copy's version: nothing in the changed rows says so, so load anew.
            var erased = await db.GalleryCatalogVersions.AsNoTracking().Where(v => v.Id == GalleryCatalogVersion.SingletonId).Select(v => v.ErasedAtVersion).FirstOrDefaultAsync(ct);
            if (since < erased)
            {
                state = CatalogState.Empty;
                since = state.Version;
            }
            var authors = await db.GalleryAuthors.AsNoTracking().Where(a => a.ChangeVersion > since).ToListAsync(ct);
            var entities = await db.GalleryEntities.AsNoTracking().Where(e => e.ChangeVersion > since).ToListAsync(ct);
            var tokens = await db.CatalogTokens.AsNoTracking().Where(t => t.ChangeVersion > since).ToListAsync(ct);
            // Rows committed after the version read may be half seen (one table read before their commit, another
            // after): the copy claims only `version`, so the next catch-up reads them again, whole.
            state = state.Apply(version, authors, entities, tokens);
            _state = state;
            return state;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
