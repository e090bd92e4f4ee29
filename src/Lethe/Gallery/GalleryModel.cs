using Lethe.Privacy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lethe.Gallery;

/// Seed 000: "Solutions, Projects, Experiments, and other published items".
public enum EntityKind
{
    Solution,
    Project,
    Experiment,
    Notebook,
    Tutorial,
    Collection,
    CustomModule,
    Competition,
}

public enum Visibility
{
    Public,
    Unlisted,
}

/// A person who published to the gallery, keyed by their author ID (seed 000: "based on the email
/// address used when publishing ... It does not change"): made on first publish or first token, and
/// kept when the account's email changes later.
[SubjectRecord]
[Erasure(ErasureStrategy.Delete, Reason = "A profile exists only for its person; erasing the person removes the profile, their entities and tokens.")]
public sealed class GalleryAuthor
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId, IsSubjectKey = true)]
    public required string Id { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public required Guid UserId { get; init; }

    /// The email the author ID was derived from, kept to answer access requests made by email.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public required string Email { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId, IsName = true)]
    public required string Name { get; set; }

    /// "First-Last": the name as it appears in profile addresses.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId)]
    public required string Slug { get; set; }

    [NotPersonalData("The deployment's tenant, the same for every author.")]
    public required string TenantId { get; init; }

    [NotPersonalData("The deployment's community, the same for every author.")]
    public required string CommunityId { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset CreatedAt { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset UpdatedAt { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset? ContributedAt { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset? ScoredAt { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public double ContributionScore { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public int EntitiesCount { get; set; }

    [NotPersonalData("A random value that changes with every change of the profile.")]
    public required Guid ETag { get; set; }

    [NotPersonalData("The catalog version of the last change, for the in-memory copies of other nodes.")]
    public long ChangeVersion { get; set; }
}

/// A published item. Unpublishing keeps a tombstone (UnpublishedAt set, content cleared) so that every
/// node's in-memory catalog learns of it from the same change feed as any other change.
[Erasure(ErasureStrategy.Delete, Reason = "Published items are their author's content and go with the author.")]
public sealed class GalleryEntity
{
    [NotPersonalData("A random ID of the item.")]
    public required Guid Id { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId, IsSubjectKey = true)]
    public required string AuthorId { get; init; }

    [NotPersonalData("The kind of item.")]
    public required EntityKind Kind { get; set; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.AuthorId)]
    public required string Name { get; set; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.AuthorId)]
    public required string Description { get; set; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.AuthorId)]
    public List<string> Tags { get; set; } = [];

    [NotPersonalData("Public or Unlisted.")]
    public required Visibility Visibility { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset CreatedAt { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset UpdatedAt { get; set; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset? UnpublishedAt { get; set; }

    [NotPersonalData("The catalog version of the last change, for the in-memory copies of other nodes.")]
    public long ChangeVersion { get; set; }
}

/// A Catalog API access token (seed 000: the DataLabAccessToken header). Only its SHA-256 is stored.
[Erasure(ErasureStrategy.Delete, Reason = "A token is only of use to its author.")]
public sealed class CatalogToken
{
    [NotPersonalData("A random ID of the token.")]
    public required Guid Id { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId, IsSubjectKey = true)]
    public required string AuthorId { get; init; }

    /// Upper-case hex SHA-256 of the token: the token itself is a credential and is never stored.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId)]
    public required string Hash { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset CreatedAt { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset ExpiresAt { get; init; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.AuthorId)]
    public DateTimeOffset? RevokedAt { get; set; }

    [NotPersonalData("The catalog version of the last change, for the in-memory copies of other nodes.")]
    public long ChangeVersion { get; set; }
}

/// One row: the number of the last committed catalog change. Every write takes the next number inside
/// its transaction (the row lock orders writers), so a reader that sees N knows every change up to N
/// is committed and visible.
public sealed class GalleryCatalogVersion
{
    public const int SingletonId = 1;

    [NotPersonalData("Always 1.")]
    public int Id { get; init; }

    [NotPersonalData("A counter.")]
    public long Value { get; set; }

    /// The version of the last erasure: rows were deleted then, which a copy cannot see in the changed rows, so a
    /// copy older than this loads the catalog anew instead of catching up.
    public long ErasedAtVersion { get; set; }
}

internal sealed class GalleryAuthorConfiguration : IEntityTypeConfiguration<GalleryAuthor>
{
    public void Configure(EntityTypeBuilder<GalleryAuthor> a)
    {
        a.HasKey(x => x.Id);
        a.Property(x => x.Id).HasMaxLength(Identity.AuthorId.Length);
        a.Property(x => x.Email).HasMaxLength(256);
        a.Property(x => x.Name).HasMaxLength(256);
        a.Property(x => x.Slug).HasMaxLength(256);
        a.Property(x => x.TenantId).HasMaxLength(32);
        a.Property(x => x.CommunityId).HasMaxLength(32);
        a.HasIndex(x => x.UserId).IsUnique();
        a.HasIndex(x => x.Email);
        a.HasIndex(x => x.ChangeVersion);
    }
}

internal sealed class GalleryEntityConfiguration : IEntityTypeConfiguration<GalleryEntity>
{
    public void Configure(EntityTypeBuilder<GalleryEntity> e)
    {
        e.HasKey(x => x.Id);
        e.Property(x => x.AuthorId).HasMaxLength(Identity.AuthorId.Length);
        e.Property(x => x.Name).HasMaxLength(GalleryRules.MaxNameLength);
        e.Property(x => x.Description).HasMaxLength(GalleryRules.MaxDescriptionLength);
        e.HasOne<GalleryAuthor>().WithMany().HasForeignKey(x => x.AuthorId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.AuthorId, x.CreatedAt });
        e.HasIndex(x => x.ChangeVersion);
    }
}

internal sealed class CatalogTokenConfiguration : IEntityTypeConfiguration<CatalogToken>
{
    public void Configure(EntityTypeBuilder<CatalogToken> t)
    {
        t.HasKey(x => x.Id);
        t.Property(x => x.AuthorId).HasMaxLength(Identity.AuthorId.Length);
        t.Property(x => x.Hash).HasMaxLength(64);
        t.HasOne<GalleryAuthor>().WithMany().HasForeignKey(x => x.AuthorId).OnDelete(DeleteBehavior.Cascade);
        t.HasIndex(x => x.Hash).IsUnique();
        t.HasIndex(x => x.AuthorId);
        t.HasIndex(x => x.ChangeVersion);
    }
}

internal sealed class GalleryCatalogVersionConfiguration : IEntityTypeConfiguration<GalleryCatalogVersion>
{
    public void Configure(EntityTypeBuilder<GalleryCatalogVersion> v)
    {
        v.HasKey(x => x.Id);
        v.Property(x => x.Id).ValueGeneratedNever();
        v.HasData(new GalleryCatalogVersion { Id = GalleryCatalogVersion.SingletonId, Value = 0 });
    }
}
