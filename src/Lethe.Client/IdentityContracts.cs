namespace Lethe.Client;

// Accounts and invitations (GET /identity/registration, /identity/invitations, /identity/users).

/// Who may make an account on this server: Closed, Invite, Domains or Open (`Lethe:Identity:Registration`).
public sealed record RegistrationInfo(string Mode);

public sealed record InviteRequest(string Email, string? DisplayName = null);

/// An invitation. <see cref="Link"/> is given once, in the answer that made it (the server keeps only a hash of its
/// code); <see cref="Mailed"/> says whether the server sent it by email.
public sealed record InvitationResource(
    Guid Id,
    string Email,
    string DisplayName,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? AcceptedAt,
    Guid InvitedBy,
    string? Link = null,
    bool? Mailed = null);

public sealed record AcceptInvitationRequest(string Code, string Password, string? DisplayName = null);

public sealed record UserResource(Guid Id, string Email, string DisplayName, DateTimeOffset CreatedAt, bool Disabled, bool EmailConfirmed);

/// One recorded interaction (GET /me/telemetry): the operation, the resource's ID and the route's template.
public sealed record TelemetryEventResource(Guid Id, string Action, string Resource, string Route, DateTimeOffset OccurredAt);

/// How often an action was recorded (GET /telemetry/actions, operators).
public sealed record TelemetryActionCount(string Action, long Count);
