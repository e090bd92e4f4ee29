using Lethe.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Gallery;

public sealed record PublishRequest(EntityKind Kind, string Name, string? Description, IReadOnlyList<string>? Tags, Visibility Visibility);

public sealed record EntityChange(EntityKind? Kind, string? Name, string? Description, IReadOnlyList<string>? Tags, Visibility? Visibility);

public sealed record IssuedToken(string Token, DateTimeOffset ExpiresAt);

public enum WriteOutcome
{
    Done,
    NotFound,
    NoEmail,
}

/// Every change to the gallery: each takes the next catalog version in its transaction, marks what it
/// changed with it, and recomputes the author's score, so that every node's in-memory catalog catches up
/// exactly (decision 0020). After the commit this node's copy is brought up to date before the writer
/// answers, even if the request was cancelled meanwhile (CancellationToken.None): the change is committed.
public sealed class GalleryWrites(LetheDb db, AuthorIds authorIds, GalleryCatalog catalog, IOptions<GalleryOptions> options, TimeProvider clock)
{
    /// The public name of someone who has set no display name: never anything derived from their email.
    public const string AnonymousName = "Anonymous author";

    /// The signed-in user's author profile if they have one; looking never makes one.
    public Task<GalleryAuthor?> FindAuthorAsync(Guid userId, CancellationToken ct)
        => db.GalleryAuthors.AsNoTracking().FirstOrDefaultAsync(a => a.UserId == userId, ct);

    /// The signed-in user's author profile, made by the first author action (publishing, a token) from the account's
    /// display name. It becomes public (`GET /catalog/users/{id}`) only with the first published item.
    public async Task<GalleryAuthor?> AuthorForAsync(Guid userId, CancellationToken ct)
    {
        var existing = await db.GalleryAuthors.FirstOrDefaultAsync(a => a.UserId == userId, ct);
        if (existing is not null)
        {
            return existing;
        }
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user?.Email is not { Length: > 0 } email)
        {
            return null;
        }
        var id = await authorIds.ForAsync(email, ct);
        var name = PublicNameOf(user);
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var author = new GalleryAuthor
        {
            Id = id, UserId = userId, Email = email.Trim().ToLowerInvariant(), Name = name, Slug = GalleryRules.Slug(name),
            TenantId = options.Value.TenantId, CommunityId = options.Value.CommunityId, CreatedAt = now, UpdatedAt = now,
            ETag = Guid.NewGuid(), ChangeVersion = await NextVersionAsync(ct),
        };
        db.GalleryAuthors.Add(author);
        try
        {
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two first requests of the same user at once: the other one made the profile.
            await transaction.RollbackAsync(CancellationToken.None);
            db.Entry(author).State = EntityState.Detached;
            return await db.GalleryAuthors.FirstAsync(a => a.UserId == userId, ct);
        }
        await catalog.ChangedAsync(CancellationToken.None);
        return author;
    }

    /// The name an author profile shows: the account's display name, else <see cref="AnonymousName"/>.
    public static string PublicNameOf(LetheUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return string.IsNullOrWhiteSpace(user.DisplayName) ? AnonymousName : user.DisplayName.Trim();
    }

    public async Task<(WriteOutcome Outcome, GalleryEntity? Entity)> PublishAsync(Guid userId, PublishRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var author = await AuthorForAsync(userId, ct);
        if (author is null)
        {
            return (WriteOutcome.NoEmail, null);
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var version = await NextVersionAsync(ct);
        var entity = new GalleryEntity
        {
            Id = Guid.NewGuid(), AuthorId = author.Id, Kind = request.Kind, Name = request.Name.Trim(), Description = request.Description?.Trim() ?? "",
            Tags = GalleryRules.NormalizeTags(request.Tags), Visibility = request.Visibility, CreatedAt = now, UpdatedAt = now, ChangeVersion = version,
        };
        db.GalleryEntities.Add(entity);
        await db.SaveChangesAsync(ct);
        await RescoreAsync(author, version, now, contributed: true, ct);
        await transaction.CommitAsync(ct);
        await catalog.ChangedAsync(CancellationToken.None);
        return (WriteOutcome.Done, entity);
    }

    public async Task<(WriteOutcome Outcome, GalleryEntity? Entity)> ChangeAsync(Guid userId, Guid entityId, EntityChange change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        var author = await db.GalleryAuthors.FirstOrDefaultAsync(a => a.UserId == userId, ct);
        if (author is null)
        {
            return (WriteOutcome.NotFound, null);
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The version first: it locks the catalog's counter, so an unpublish committed meanwhile is seen by the
        // read below, and a change never writes its content back into a tombstone (decision 0071).
        var version = await NextVersionAsync(ct);
        var entity = await db.GalleryEntities.FirstOrDefaultAsync(e => e.Id == entityId && e.AuthorId == author.Id && e.UnpublishedAt == null, ct);
        if (entity is null)
        {
            return (WriteOutcome.NotFound, null);
        }
        entity.Kind = change.Kind ?? entity.Kind;
        entity.Name = change.Name?.Trim() ?? entity.Name;
        entity.Description = change.Description?.Trim() ?? entity.Description;
        entity.Tags = change.Tags is null ? entity.Tags : GalleryRules.NormalizeTags(change.Tags);
        entity.Visibility = change.Visibility ?? entity.Visibility;
        entity.UpdatedAt = now;
        entity.ChangeVersion = version;
        await db.SaveChangesAsync(ct);
        await RescoreAsync(author, version, now, contributed: true, ct);
        await transaction.CommitAsync(ct);
        await catalog.ChangedAsync(CancellationToken.None);
        return (WriteOutcome.Done, entity);
    }

    /// Unpublishing keeps a tombstone without the content: the ID, the author and when.
    public async Task<WriteOutcome> UnpublishAsync(Guid userId, Guid entityId, CancellationToken ct)
    {
        var author = await db.GalleryAuthors.FirstOrDefaultAsync(a => a.UserId == userId, ct);
        if (author is null)
        {
            return WriteOutcome.NotFound;
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The version first, as in a change: two unpublishes, or an unpublish and a change, run one after the other.
        var version = await NextVersionAsync(ct);
        var entity = await db.GalleryEntities.FirstOrDefaultAsync(e => e.Id == entityId && e.AuthorId == author.Id && e.UnpublishedAt == null, ct);
        if (entity is null)
        {
            return WriteOutcome.NotFound;
        }
        entity.UnpublishedAt = now;
        entity.UpdatedAt = now;
        entity.Name = "";
        entity.Description = "";
        entity.Tags = [];
        entity.ChangeVersion = version;
        await db.SaveChangesAsync(ct);
        await RescoreAsync(author, version, now, contributed: false, ct);
        await transaction.CommitAsync(ct);
        await catalog.ChangedAsync(CancellationToken.None);
        return WriteOutcome.Done;
    }

    /// A new token for the author. Earlier ones stay valid until they expire or are revoked: a script may
    /// hold one while the portal shows another.
    public async Task<(WriteOutcome Outcome, IssuedToken? Token)> IssueTokenAsync(Guid userId, CancellationToken ct)
    {
        var author = await AuthorForAsync(userId, ct);
        if (author is null)
        {
            return (WriteOutcome.NoEmail, null);
        }
        var now = clock.GetUtcNow();
        var token = CatalogTokens.NewToken();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var version = await NextVersionAsync(ct);
        var expiresAt = now + options.Value.TokenLifetime;
        db.CatalogTokens.Add(new CatalogToken { Id = Guid.NewGuid(), AuthorId = author.Id, Hash = CatalogTokens.HashOf(token), CreatedAt = now, ExpiresAt = expiresAt, ChangeVersion = version });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        await catalog.ChangedAsync(CancellationToken.None);
        return (WriteOutcome.Done, new IssuedToken(token, expiresAt));
    }

    /// Revokes every live token of the author; the next request with one of them, on any node, gets 401.
    public async Task<int> RevokeTokensAsync(Guid userId, CancellationToken ct)
    {
        var author = await db.GalleryAuthors.AsNoTracking().FirstOrDefaultAsync(a => a.UserId == userId, ct);
        return author is null ? 0 : await RevokeTokensOfAuthorAsync(author.Id, ct);
    }

    /// Revokes every live token of the author ID (a privacy erasure, which knows the person by their keys).
    public async Task<int> RevokeTokensOfAuthorAsync(string authorId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var version = await NextVersionAsync(ct);
        var revoked = await RevokeLiveAsync(authorId, version, now, ct);
        await transaction.CommitAsync(ct);
        await catalog.ChangedAsync(CancellationToken.None);
        return revoked;
    }

    /// The live token's expiry, for the profile page (the token itself is not kept).
    public Task<DateTimeOffset?> LiveTokenExpiryAsync(string authorId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.CatalogTokens.AsNoTracking().Where(t => t.AuthorId == authorId && t.RevokedAt == null && t.ExpiresAt > now)
            .OrderByDescending(t => t.ExpiresAt).Select(t => (DateTimeOffset?)t.ExpiresAt).FirstOrDefaultAsync(ct);
    }

    private Task<int> RevokeLiveAsync(string authorId, long version, DateTimeOffset now, CancellationToken ct)
        => db.CatalogTokens.Where(t => t.AuthorId == authorId && t.RevokedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now).SetProperty(t => t.ChangeVersion, version), ct);

    private async Task RescoreAsync(GalleryAuthor author, long version, DateTimeOffset now, bool contributed, CancellationToken ct)
    {
        var items = await db.GalleryEntities.AsNoTracking().Where(e => e.AuthorId == author.Id && e.UnpublishedAt == null)
            .Select(e => new { e.Kind, e.Visibility, e.Tags, e.Description }).ToListAsync(ct);
        author.ContributionScore = ContributionScore.Of(items.Select(i => (i.Kind, i.Visibility, i.Tags.Count, i.Description.Length)));
        author.EntitiesCount = items.Count(i => i.Visibility == Visibility.Public);
        author.ScoredAt = now;
        if (contributed)
        {
            author.ContributedAt = now;
        }
        author.ETag = Guid.NewGuid();
        author.ChangeVersion = version;
        await db.SaveChangesAsync(ct);
    }

    /// A person's erasure: their rows of one gallery table are deleted (or, in a dry run, counted) as a catalog
    /// change, with the version marked as an erasure so that every node's copy drops them on its next request
    /// (deleted rows never reach a copy that only catches up on changed rows).
    public async Task<long> EraseAsync<T>(IQueryable<T> rows, bool dryRun, CancellationToken ct) where T : class
    {
        ArgumentNullException.ThrowIfNull(rows);
        var count = await rows.LongCountAsync(ct);
        if (dryRun || count == 0)
        {
            return count;
        }
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var version = await NextVersionAsync(ct);
            count = await rows.ExecuteDeleteAsync(ct);
            await db.GalleryCatalogVersions.Where(v => v.Id == GalleryCatalogVersion.SingletonId)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.ErasedAtVersion, version), ct);
            await transaction.CommitAsync(ct);
        }
        await catalog.ChangedAsync(CancellationToken.None);
        return count;
    }

    /// The next catalog version, taken inside the caller's transaction: the counter row stays locked until
    /// it commits, so versions are committed in order.
    private async Task<long> NextVersionAsync(CancellationToken ct)
        => (await db.Database.SqlQueryRaw<long>(
                "UPDATE \"GalleryCatalogVersions\" SET \"Value\" = \"Value\" + 1 WHERE \"Id\" = 1 RETURNING \"Value\"")
            .ToListAsync(ct)).Single();
}
