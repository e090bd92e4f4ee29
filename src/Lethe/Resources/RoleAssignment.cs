using Lethe.Privacy;

namespace Lethe.Resources;

/// The built-in roles (ARCHITECTURE.md), plus the platform's own privacy officer.
public enum Role
{
    Owner,
    Contributor,
    Reader,
    LabUser,
    PrivacyOfficer,
    /// Reads and permanently deletes (purges) soft-deleted resources, e.g. a workspace before its retention ends.
    Purger,
}

/// A principal holds a role at a scope: the root <c>/</c>, a subscription, a resource group or a resource.
[Erasure(ErasureStrategy.Delete, Reason = "Access of an erased person ends with them.")]
public sealed class RoleAssignment
{
    public Guid Id { get; init; }

    /// The scope as given (canonical resource ID).
    public required string Scope { get; init; }

    /// The scope lower-cased: matched against a target's ancestor scopes with an index seek.
    public required string ScopeKey { get; init; }

    /// The subscription the scope lies in; null for the root scope. Lets lists filter without string matching.
    public Guid? SubscriptionId { get; init; }

    /// The lower-cased resource group the scope lies in; null at root and subscription scope.
    public string? ResourceGroupKey { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid PrincipalId { get; init; }

    public Role Role { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public static RoleAssignment Create(ResourceId scope, Guid principalId, Role role, DateTimeOffset now, Guid? id = null) => new()
    {
        Id = id ?? Guid.NewGuid(),
        Scope = scope.Value,
        ScopeKey = scope.Key,
        SubscriptionId = scope.SubscriptionId,
        ResourceGroupKey = scope.ResourceGroup?.ToLowerInvariant(),
        PrincipalId = principalId,
        Role = role,
        CreatedAt = now,
    };
}
