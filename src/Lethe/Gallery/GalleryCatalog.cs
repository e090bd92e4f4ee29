using System.Collections.Immutable;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

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
        Authors = authors;
        ByAuthor = byAuthor;
        Tokens = tokens;
    }

    public long Version { get; }

    /// Every live item, public and unlisted: the visibility rule is applied per request.
    public ImmutableDictionary<Guid, CatalogItem> Entities { get; }
    public ImmutableDictionary<string, CatalogProfile> Authors { get; }

    /// Each author's live items, newest first.
    public ImmutableDictionary<string, ImmutableArray<CatalogItem>> ByAuthor { get; }

    /// Tokens by the SHA-256 of the token, revoked ones included so that the answer can say so.
    public ImmutableDictionary<string, CatalogTokenEntry> Tokens { get; }

    public string AuthorName(string authorId) => Authors.TryGetValue(authorId, out var a) ? a.Name : "";

    /// The rows changed since this copy applied on top of it, as of <paramref name="version"/>. Applying a row
    /// twice, or a row newer than <paramref name="version"/>, is harmless: each row carries its own version.
    public CatalogState Apply(long version, IReadOnlyList<GalleryAuthor> authors, IReadOnlyList<GalleryEntity> entities, IReadOnlyList<CatalogToken> tokens)
    {
        var authorMap = Authors.ToBuilder();
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

        var byAuthor = ByAuthor;
        if (touched.Count > 0)
        {
            var builder = ByAuthor.ToBuilder();
            if (ByAuthor.IsEmpty && touched.Count > 1000)
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
                    var mine = ByAuthor.TryGetValue(authorId, out var list) ? list : [];
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

/// The catalog served from memory, exact on one node and on many (decision 0020). Before it answers, a
/// request waits for a read of the catalog's version that started after the request arrived; that read
/// is shared by every request that arrived while the previous one ran, so under load one cheap round
/// trip serves dozens of requests. When the version moved, the changed rows are read and applied first.
/// Whatever was committed before a request arrived (on any node) is therefore in the copy it reads:
/// a visibility change, an unpublish or a revoked token is never answered from a stale copy.
public sealed class GalleryCatalog(IServiceScopeFactory scopes) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private TaskCompletionSource<long>? _running;
    private TaskCompletionSource<long>? _waiting;
    private volatile CatalogState _state = CatalogState.Empty;
    private volatile DbProviderFactory? _factory;
    private string? _connectionString;
    private volatile bool _singleProcess;

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
        var version = await NextVersionReadAsync().WaitAsync(ct);
        state = _state;
        return state.Version >= version ? state : await CatchUpAsync(version, ct);
    }

    /// Called after every committed catalog change (and by anything else that writes the catalog's tables):
    /// the copy holds the change before the writer answers.
    public async Task ChangedAsync(CancellationToken ct)
    {
        var version = await ReadVersionAsync();
        if (_state.Version < version)
        {
            await CatchUpAsync(version, ct);
        }
    }

    private Task<long> NextVersionReadAsync()
    {
        lock (_gate)
        {
            if (_running is null)
            {
                _running = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                _ = Task.Run(() => ReadLoopAsync(_running));
                return _running.Task;
            }
            // A read is under way, but it may have started before a commit that this request must see.
            _waiting ??= new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiting.Task;
        }
    }

    private async Task ReadLoopAsync(TaskCompletionSource<long> current)
    {
        while (true)
        {
            try
            {
                current.SetResult(await ReadLoopVersionAsync());
            }
            catch (Exception e)
            {
                current.SetException(e);
            }
            lock (_gate)
            {
                if (_waiting is null)
                {
                    _running = null;
                    return;
                }
                current = _waiting;
                _running = current;
                _waiting = null;
            }
        }
    }

    private const string VersionSql = "SELECT \"Value\" FROM \"GalleryCatalogVersions\" WHERE \"Id\" = 1";

    /// The read loop's own connection, with the version read prepared on it: under load the loop reads back to
    /// back, and a prepared statement on a kept connection spares the database a parse, a plan and a pool reset
    /// per read. Only the loop uses it (one read at a time); <see cref="ChangedAsync"/> reads on a pooled connection.
    private DbCommand? _loopCommand;

    /// The version for the read loop: on the kept connection (multi-node databases), else on a pooled one. A kept
    /// connection that fails (closed by the server, a network error) is dropped and the read is tried once more on
    /// a new one, so an idle timeout never fails a batch of requests.
    private async Task<long> ReadLoopVersionAsync()
    {
        await DiscoverAsync();
        if (_singleProcess)
        {
            return await ReadVersionAsync();
        }
        var reused = _loopCommand is not null;
        try
        {
            return await ReadOnLoopConnectionAsync();
        }
        catch (Exception) when (reused)
        {
            return await ReadOnLoopConnectionAsync();
        }
    }

    private async Task<long> ReadOnLoopConnectionAsync()
    {
        // A bounded wait: a stuck database fails the waiting requests instead of hanging them.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (_loopCommand is null)
            {
                var connection = _factory!.CreateConnection() ?? throw new InvalidOperationException("The provider made no connection.");
                connection.ConnectionString = LoopConnectionString();
                await connection.OpenAsync(timeout.Token);
                var command = connection.CreateCommand();
                command.CommandText = VersionSql;
                await command.PrepareAsync(timeout.Token);
                _loopCommand = command;
            }
            return Convert.ToInt64(await _loopCommand.ExecuteScalarAsync(timeout.Token), System.Globalization.CultureInfo.InvariantCulture);
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
        DropLoopConnection();
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
