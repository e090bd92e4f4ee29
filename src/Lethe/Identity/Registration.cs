using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using Lethe.Resources;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Identity;

/// Who may make an account (`Lethe:Identity:Registration`).
public enum RegistrationMode
{
    /// No one signs up: accounts come from the operator (`--admin-email`) or an operator's invitation. The default.
    Closed,

    /// No one signs up; operators and owners (Owner at any scope) invite by email.
    Invite,

    /// People sign up with an email of one of `Lethe:Identity:Domains`; invitations work too.
    Domains,

    /// Anyone who reaches the server signs up (`serve --demo` sets this, so that a demo can be tried).
    Open,
}

public sealed class RegistrationOptions
{
    public const string Section = "Lethe:Identity";

    public RegistrationMode Registration { get; set; } = RegistrationMode.Closed;

    /// For <see cref="RegistrationMode.Domains"/>: the email domains that may sign up, separated by commas or
    /// spaces (`example.org, lab.example.org`). A domain matches itself only, not its subdomains.
    public string Domains { get; set; } = "";

    /// Days an invitation link stays valid.
    public int InvitationDays { get; set; } = 7;

    public IReadOnlySet<string> DomainSet
        => Domains.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.TrimStart('@').ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);

    /// Whether someone may sign up with <paramref name="email"/> on their own.
    public bool AllowsSignUp(string? email) => Registration switch
    {
        RegistrationMode.Open => true,
        RegistrationMode.Domains => email is not null && email.LastIndexOf('@') is var at and > 0
            && DomainSet.Contains(email[(at + 1)..].Trim().ToLowerInvariant()),
        _ => false,
    };
}

/// What went wrong with an invitation, for the host to say in words.
public enum InvitationError
{
    None,
    NotAllowed,
    InvalidEmail,
    AccountExists,
    UnknownCode,
    Used,
    Expired,
    Revoked,
    InvalidPassword,
    InvalidDisplayName,
}

public sealed record InvitationCreated(Invitation Invitation, string Code);

public sealed record InvitationAccepted(InvitationError Error, LetheUser? User = null, IReadOnlyList<string>? PasswordErrors = null);

/// Invitations: made by operators (and by owners unless registration is Closed), accepted once before they expire.
public sealed class Invitations(LetheDb db, UserManager<LetheUser> users, IOptions<RegistrationOptions> options, TimeProvider clock)
{
    public const int MaxEmailLength = 256;
    public const int MaxDisplayNameLength = 256;

    public RegistrationOptions Options => options.Value;

    /// An operator: whoever manages access at the root scope (its Owner), decided as every other access check is.
    public async Task<bool> IsOperatorAsync(Guid objectId, CancellationToken ct)
        => await db.CheckAsync(objectId, ResourceId.Root, Right.ManageAccess, ct) == AccessDecision.Allowed;

    /// Operators invite in every mode; owners (Owner at any scope) unless registration is Closed.
    public async Task<bool> MayInviteAsync(Guid objectId, CancellationToken ct)
        => await IsOperatorAsync(objectId, ct)
            || (options.Value.Registration != RegistrationMode.Closed && await db.RoleAssignments.AnyAsync(a => a.PrincipalId == objectId && a.Role == Role.Owner, ct));

    public static string? EmailProblem(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return "An email address is required.";
        }
        if (email.Length > MaxEmailLength)
        {
            return $"An email address has at most {MaxEmailLength} characters.";
        }
        return MailAddress.TryCreate(email.Trim(), out var parsed) && parsed.Address == email.Trim() && parsed.Host.Length > 0
            ? null
            : "This is not an email address (name@example.org).";
    }

    public static string? DisplayNameProblem(string? name)
        => name is not null && (name.Length > MaxDisplayNameLength || name.Any(char.IsControl))
            ? $"A display name has at most {MaxDisplayNameLength} characters and no control characters."
            : null;

    /// A new invitation for <paramref name="email"/>; earlier pending ones for the same email are revoked, so
    /// that only the newest link works.
    public async Task<(InvitationError Error, InvitationCreated? Created)> CreateAsync(Guid inviter, string email, string? displayName, CancellationToken ct)
    {
        if (!await MayInviteAsync(inviter, ct))
        {
            return (InvitationError.NotAllowed, null);
        }
        if (EmailProblem(email) is not null)
        {
            return (InvitationError.InvalidEmail, null);
        }
        if (DisplayNameProblem(displayName) is not null)
        {
            return (InvitationError.InvalidDisplayName, null);
        }
        var normalized = Privacy.SubjectKeys.NormalizeEmail(email);
        if (await users.FindByEmailAsync(normalized) is not null)
        {
            return (InvitationError.AccountExists, null);
        }
        var now = clock.GetUtcNow();
        var code = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var invitation = new Invitation
        {
            Id = Guid.CreateVersion7(now),
            Email = normalized,
            DisplayName = displayName?.Trim() ?? "",
            InvitedBy = inviter,
            CodeHash = Hash(code),
            CreatedAt = now,
            ExpiresAt = now.AddDays(Math.Max(1, options.Value.InvitationDays)),
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Invitations
            .Where(i => i.Email == normalized && i.AcceptedAt == null && i.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedAt, now), ct);
        db.Invitations.Add(invitation);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (InvitationError.None, new InvitationCreated(invitation, code));
    }

    /// The invitation a link's code names, if any (to show whom it is for before the person sets a password).
    public async Task<(InvitationError Error, Invitation? Invitation)> FindAsync(string? code, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(code) || code.Length > 128)
        {
            return (InvitationError.UnknownCode, null);
        }
        var hash = Hash(code);
        var invitation = await db.Invitations.AsNoTracking().FirstOrDefaultAsync(i => i.CodeHash == hash, ct);
        return invitation is null ? (InvitationError.UnknownCode, null) : (ErrorOf(invitation.StateAt(clock.GetUtcNow())), invitation);
    }

    /// Makes the account and spends the invitation, in one transaction: a code works once, even when two
    /// people use it at the same moment.
    public async Task<InvitationAccepted> AcceptAsync(string? code, string? password, string? displayName, CancellationToken ct)
    {
        var (error, invitation) = await FindAsync(code, ct);
        if (error != InvitationError.None)
        {
            return new InvitationAccepted(error);
        }
        if (DisplayNameProblem(displayName) is not null)
        {
            return new InvitationAccepted(InvitationError.InvalidDisplayName);
        }
        var user = new LetheUser
        {
            Id = Guid.NewGuid(),
            UserName = invitation!.Email,
            Email = invitation.Email,
            EmailConfirmed = true,
            DisplayName = string.IsNullOrWhiteSpace(displayName) ? invitation.DisplayName : displayName.Trim(),
            CreatedAt = clock.GetUtcNow(),
        };
        var passwordErrors = new List<string>();
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, password);
            passwordErrors.AddRange(result.Errors.Select(e => e.Description));
        }
        if (string.IsNullOrEmpty(password) || passwordErrors.Count > 0)
        {
            return new InvitationAccepted(InvitationError.InvalidPassword, PasswordErrors: passwordErrors.Count > 0 ? passwordErrors : ["A password is required."]);
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var spent = await db.Invitations
            .Where(i => i.Id == invitation.Id && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedBy, user.Id), ct);
        if (spent == 0)
        {
            // Someone used it a moment ago, or it expired or was revoked meanwhile.
            var (again, _) = await FindAsync(code, ct);
            return new InvitationAccepted(again == InvitationError.None ? InvitationError.Used : again);
        }
        // Checked once this request holds the invitation: a person who signed up meanwhile keeps the invitation unspent.
        if (await users.FindByEmailAsync(invitation.Email) is not null)
        {
            await transaction.RollbackAsync(ct);
            return new InvitationAccepted(InvitationError.AccountExists);
        }
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            await transaction.RollbackAsync(ct);
            return created.Errors.Any(e => e.Code is "DuplicateEmail" or "DuplicateUserName")
                ? new InvitationAccepted(InvitationError.AccountExists)
                : new InvitationAccepted(InvitationError.InvalidPassword, PasswordErrors: [.. created.Errors.Select(e => e.Description)]);
        }
        await transaction.CommitAsync(ct);
        return new InvitationAccepted(InvitationError.None, user);
    }

    /// Withdraws a pending invitation. Operators withdraw any; owners their own.
    public async Task<InvitationError> RevokeAsync(Guid caller, Guid id, CancellationToken ct)
    {
        var invitation = await db.Invitations.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, ct);
        if (invitation is null || (invitation.InvitedBy != caller && !await IsOperatorAsync(caller, ct)))
        {
            return InvitationError.UnknownCode;
        }
        var now = clock.GetUtcNow();
        var revoked = await db.Invitations
            .Where(i => i.Id == id && i.AcceptedAt == null && i.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedAt, now), ct);
        return revoked == 1 ? InvitationError.None : ErrorOf(invitation.StateAt(now)) is var e and not InvitationError.None ? e : InvitationError.Used;
    }

    /// The invitations the caller may see: all for operators, their own for owners; newest first.
    public async Task<List<Invitation>> ListAsync(Guid caller, CancellationToken ct)
    {
        var all = await IsOperatorAsync(caller, ct);
        return await db.Invitations.AsNoTracking()
            .Where(i => all || i.InvitedBy == caller)
            .OrderByDescending(i => i.CreatedAt)
            .Take(500)
            .ToListAsync(ct);
    }

    private static InvitationError ErrorOf(InvitationState state) => state switch
    {
        InvitationState.Accepted => InvitationError.Used,
        InvitationState.Expired => InvitationError.Expired,
        InvitationState.Revoked => InvitationError.Revoked,
        _ => InvitationError.None,
    };

    private static string Hash(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));
}
