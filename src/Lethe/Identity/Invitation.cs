using Lethe.Privacy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lethe.Identity;

/// An invitation to make an account: addressed to one email, made by an operator or an owner, accepted
/// once through the link it was sent with, before it expires. The link's code is stored only as its
/// SHA-256: the database cannot give it away.
[Erasure(ErasureStrategy.Delete, Reason = "An invitation names the person invited and the person who invited; either's erasure removes it.")]
public sealed class Invitation
{
    public Guid Id { get; init; }

    /// Trimmed and lower-cased, as the privacy engine finds emails.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public required string Email { get; init; }

    /// The name the account starts with, as the inviter typed it (the person can change it).
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.Email, IsName = true)]
    public string DisplayName { get; init; } = "";

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid InvitedBy { get; init; }

    [NotPersonalData("The SHA-256 of a random code; the code itself is never stored.")]
    public required string CodeHash { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? AcceptedAt { get; set; }

    /// The account the invitation became.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? AcceptedBy { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public InvitationState StateAt(DateTimeOffset now)
        => AcceptedAt is not null ? InvitationState.Accepted
            : RevokedAt is not null ? InvitationState.Revoked
            : ExpiresAt <= now ? InvitationState.Expired
            : InvitationState.Pending;
}

public enum InvitationState
{
    Pending,
    Accepted,
    Expired,
    Revoked,
}

internal sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> e)
    {
        e.HasKey(x => x.Id);
        e.Property(x => x.Email).HasMaxLength(256);
        e.Property(x => x.DisplayName).HasMaxLength(256);
        e.Property(x => x.CodeHash).HasMaxLength(64);
        e.HasIndex(x => x.CodeHash).IsUnique();
        e.HasIndex(x => x.Email);
        e.HasIndex(x => x.InvitedBy);
        e.HasIndex(x => x.AcceptedBy);
    }
}
