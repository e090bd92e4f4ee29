using Lethe.Privacy;
using Microsoft.AspNetCore.Identity;
using PersonalData = Lethe.Privacy.PersonalDataAttribute;

namespace Lethe.Identity;

/// A person who signs in. The key is the user's object ID (a GUID), as Azure AD names it; the
/// Identity columns that hold personal data are redeclared here so the personal-data map sees them.
/// Every column of the Identity tables is declared; secrets are erased with the row and never exported. The
/// account goes last in an erasure (<see cref="ErasureAttribute.LastPhase"/>): until then it is how the person is found.
[SubjectRecord]
[Erasure(ErasureStrategy.Delete, Phase = ErasureAttribute.LastPhase, Reason = "The account goes with the person; records elsewhere keep only the object ID, anonymized by their own strategy.")]
public sealed class LetheUser : IdentityUser<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid Id { get => base.Id; set => base.Id = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsName = true)]
    public string DisplayName { get; set; } = "";

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override string? UserName { get => base.UserName; set => base.UserName = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override string? NormalizedUserName { get => base.NormalizedUserName; set => base.NormalizedUserName = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email)]
    public override string? Email { get => base.Email; set => base.Email = value; }

    /// Identity's upper-cased email, with its index: the key that finds the account by email.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true, KeyCase = KeyCase.Upper)]
    public override string? NormalizedEmail { get => base.NormalizedEmail; set => base.NormalizedEmail = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override string? PhoneNumber { get => base.PhoneNumber; set => base.PhoneNumber = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override bool EmailConfirmed { get => base.EmailConfirmed; set => base.EmailConfirmed = value; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.ObjectId)]
    public override bool PhoneNumberConfirmed { get => base.PhoneNumberConfirmed; set => base.PhoneNumberConfirmed = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId)]
    public DateTimeOffset CreatedAt { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, Export = PersonalDataExport.Omit)]
    public override string? PasswordHash { get => base.PasswordHash; set => base.PasswordHash = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, Export = PersonalDataExport.Omit)]
    public override string? SecurityStamp { get => base.SecurityStamp; set => base.SecurityStamp = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId, Export = PersonalDataExport.Omit)]
    public override string? ConcurrencyStamp { get => base.ConcurrencyStamp; set => base.ConcurrencyStamp = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId)]
    public override bool TwoFactorEnabled { get => base.TwoFactorEnabled; set => base.TwoFactorEnabled = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId)]
    public override DateTimeOffset? LockoutEnd { get => base.LockoutEnd; set => base.LockoutEnd = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId)]
    public override bool LockoutEnabled { get => base.LockoutEnabled; set => base.LockoutEnabled = value; }

    [PersonalData(PersonalDataCategory.Usage, SubjectKind.ObjectId)]
    public override int AccessFailedCount { get => base.AccessFailedCount; set => base.AccessFailedCount = value; }
}

[Erasure(ErasureStrategy.Delete, Phase = ErasureAttribute.LastPhase)]
public sealed class LetheUserClaim : IdentityUserClaim<Guid>
{
    [NotPersonalData("A row number.")]
    public override int Id { get => base.Id; set => base.Id = value; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.ObjectId)]
    public override string? ClaimType { get => base.ClaimType; set => base.ClaimType = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid UserId { get => base.UserId; set => base.UserId = value; }

    [PersonalData(PersonalDataCategory.Content, SubjectKind.ObjectId)]
    public override string? ClaimValue { get => base.ClaimValue; set => base.ClaimValue = value; }
}

[Erasure(ErasureStrategy.Delete, Phase = ErasureAttribute.LastPhase)]
public sealed class LetheUserLogin : IdentityUserLogin<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public override string LoginProvider { get => base.LoginProvider; set => base.LoginProvider = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid UserId { get => base.UserId; set => base.UserId = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public override string ProviderKey { get => base.ProviderKey; set => base.ProviderKey = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public override string? ProviderDisplayName { get => base.ProviderDisplayName; set => base.ProviderDisplayName = value; }
}

[Erasure(ErasureStrategy.Delete, Phase = ErasureAttribute.LastPhase)]
public sealed class LetheUserToken : IdentityUserToken<Guid>
{
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId)]
    public override string LoginProvider { get => base.LoginProvider; set => base.LoginProvider = value; }

    /// A refresh token, an authenticator key, recovery codes: secrets, erased and never exported.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, Export = PersonalDataExport.Omit)]
    public override string? Value { get => base.Value; set => base.Value = value; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public override Guid UserId { get => base.UserId; set => base.UserId = value; }

    [NotPersonalData("A token's name (\"RefreshToken\", \"AuthenticatorKey\") names the token kind, not a person.")]
    public override string Name { get => base.Name; set => base.Name = value; }
}
