using System.Text.Json.Serialization;

namespace Lethe.Client;

// Wire contracts, shared by the server (which writes them) and the SDK (which reads them).
// Management resources follow Azure Resource Manager's shapes: { id, name, type, properties }
// and lists as { value, nextLink }.

public sealed record ArmList<T>(IReadOnlyList<T> Value, string? NextLink);

public sealed record SubscriptionResource(string Id, Guid SubscriptionId, string DisplayName, string State);

public sealed record CreateSubscriptionRequest(string DisplayName);

public sealed record ResourceGroupResource(string Id, string Name, string Type, string Location, ResourceGroupProperties Properties);

public sealed record ResourceGroupProperties(string ProvisioningState);

public sealed record CreateResourceGroupRequest(string Location);

public sealed record RoleAssignmentResource(string Id, string Name, string Type, RoleAssignmentProperties Properties);

public sealed record RoleAssignmentProperties(string Scope, Guid PrincipalId, string RoleDefinitionName, DateTimeOffset CreatedOn);

/// Grant a role at a scope, to a principal named by object ID or (in the body only, never the URL) by email.
public sealed record CreateRoleAssignmentRequest(string Scope, string RoleDefinitionName, Guid? PrincipalId = null, string? PrincipalEmail = null);

/// The status of long work, at the URL a 202 answer names in its Azure-AsyncOperation header. While it
/// is in progress after a failed try or a worker that stopped, <see cref="Attempt"/>,
/// <see cref="LastError"/> and <see cref="NextAttemptAt"/> say so (<see cref="Error"/> is for the end).
public sealed record OperationStatus(
    string Id,
    string Name,
    string Status,
    int PercentComplete,
    DateTimeOffset? StartTime,
    DateTimeOffset? EndTime,
    OperationError? Error,
    [property: JsonPropertyName("properties")] System.Text.Json.JsonElement? Properties = null,
    int Attempt = 0,
    string? LastError = null,
    DateTimeOffset? NextAttemptAt = null);

public sealed record OperationError(string Code, string Message);

public static class OperationStates
{
    public const string InProgress = "InProgress";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Canceled = "Canceled";
}

/// The signed-in user, as `lethe whoami` shows it.
public sealed record Me(Guid ObjectId, string Email, string DisplayName, string AuthorId, IReadOnlyList<MyRole> Roles);

public sealed record MyRole(string Scope, string Role);

public sealed record UpdateMeRequest(string DisplayName);

// ASP.NET Core Identity's API endpoints (/identity/register, /identity/login, /identity/refresh).
public sealed record RegisterRequest(string Email, string Password);

public sealed record LoginRequest(string Email, string Password);

public sealed record RefreshRequest(string RefreshToken);

public sealed record AccessTokenResponse(string TokenType, string AccessToken, long ExpiresIn, string RefreshToken);

// The personal-data map (GET /privacy/map).
public sealed record PersonalDataMapResponse(IReadOnlyList<PersonalDataLocationResponse> Locations);

public sealed record PersonalDataLocationResponse(
    string Module,
    string Kind,
    string Name,
    string Strategy,
    int? RetentionDays,
    string? RetentionSetting,
    string? Reason,
    IReadOnlyList<PersonalFieldResponse> Fields)
{
    /// When an erasure handles the location: lower first (the identity account last).
    public int Phase { get; init; }

    /// The recurring sweep that anonymizes a retain-then-anonymize location when its period ends.
    public string? Sweep { get; init; }
}

/// <paramref name="Export"/>: Include, or Omit for a secret that is erased but never exported (password hash,
/// security stamp, token values). <paramref name="IsName"/>: the person's name, used in residue scans, never to find rows.
public sealed record PersonalFieldResponse(string Name, string Category, string Subject, bool IsSubjectKey, string Export = "Include", bool IsName = false);

public sealed record HealthReportResponse(string Status, IReadOnlyDictionary<string, string> Checks);
