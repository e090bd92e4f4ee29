using Lethe.Privacy;
using Microsoft.AspNetCore.Identity;
using PersonalData = Lethe.Privacy.PersonalDataAttribute;

namespace Lethe.Identity;

/// A person who signs in. The key is the user's object ID (a GUID), as Azure AD names it; the
/// Identity columns that hold personal data are redeclared here so the personal-data map sees them.
[Erasure(ErasureStrategy.Delete, Reason = "The account goes with the person; records elsewhere keep only the object ID, anonymized by their own strategy.")]
public sealed class LetheUser : IdentityUser<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid Id { get => base.Id; set => base.Id = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public string DisplayName { get; set; } = "";

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override string? UserName { get => base.UserName; set => base.UserName = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override string? NormalizedUserName { get => base.NormalizedUserName; set => base.NormalizedUserName = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public override string? Email { get => base.Email; set => base.Email = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email)]
    public override string? NormalizedEmail { get => base.NormalizedEmail; set => base.NormalizedEmail = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override string? PhoneNumber { get => base.PhoneNumber; set => base.PhoneNumber = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override bool EmailConfirmed { get => base.EmailConfirmed; set => base.EmailConfirmed = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override bool PhoneNumberConfirmed { get => base.PhoneNumberConfirmed; set => base.PhoneNumberConfirmed = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId)]
    public DateTimeOffset CreatedAt { get; set; }
}

[Erasure(ErasureStrategy.Delete)]
public sealed class LetheUserClaim : IdentityUserClaim<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid UserId { get => base.UserId; set => base.UserId = value; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.ObjectId)]
    public override string? ClaimValue { get => base.ClaimValue; set => base.ClaimValue = value; }
}

[Erasure(ErasureStrategy.Delete)]
public sealed class LetheUserLogin : IdentityUserLogin<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid UserId { get => base.UserId; set => base.UserId = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public override string ProviderKey { get => base.ProviderKey; set => base.ProviderKey = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public override string? ProviderDisplayName { get => base.ProviderDisplayName; set => base.ProviderDisplayName = value; }
}

[Erasure(ErasureStrategy.Delete)]
public sealed class LetheUserToken : IdentityUserToken<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid UserId { get => base.UserId; set => base.UserId = value; }

    [NotPersonalData("A token's name (\"RefreshToken\", \"AuthenticatorKey\") names the token kind, not a person.")]
    public override string Name { get => base.Name; set => base.Name = value; }
}
