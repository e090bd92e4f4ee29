namespace Lethe.Client;

/// Accounts: who may register, invitations, and the operator's user list.
public sealed partial class LetheClient
{
    public Task<RegistrationInfo> GetRegistrationAsync(CancellationToken ct = default)
        => SendAsync<RegistrationInfo>(HttpMethod.Get, "identity/registration", null, ct);

    public Task<InvitationResource> InviteAsync(string email, string? displayName = null, CancellationToken ct = default)
        => SendAsync<InvitationResource>(HttpMethod.Post, "identity/invitations", new InviteRequest(email, displayName), ct);

    public async Task<IReadOnlyList<InvitationResource>> ListInvitationsAsync(CancellationToken ct = default)
        => (await SendAsync<ArmList<InvitationResource>>(HttpMethod.Get, "identity/invitations", null, ct)).Value;

    public Task RevokeInvitationAsync(Guid id, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, $"identity/invitations/{id:D}", null, ct);

    /// Makes the account an invitation is for (anonymous: the code is the credential) and returns it.
    public Task<UserResource> AcceptInvitationAsync(string code, string password, string? displayName = null, CancellationToken ct = default)
        => SendAsync<UserResource>(HttpMethod.Post, "identity/invitations/accept", new AcceptInvitationRequest(code, password, displayName), ct);

    public IAsyncEnumerable<UserResource> ListUsersAsync(CancellationToken ct = default)
        => ListAsync<UserResource>("identity/users", ct);

    public Task<UserResource> DisableUserAsync(Guid id, CancellationToken ct = default)
        => SendAsync<UserResource>(HttpMethod.Post, $"identity/users/{id:D}/disable", null, ct);

    public Task<UserResource> EnableUserAsync(Guid id, CancellationToken ct = default)
        => SendAsync<UserResource>(HttpMethod.Post, $"identity/users/{id:D}/enable", null, ct);

    /// The signed-in person's own telemetry events, newest first.
    public IAsyncEnumerable<TelemetryEventResource> ListMyTelemetryAsync(CancellationToken ct = default)
        => ListAsync<TelemetryEventResource>("me/telemetry", ct);

    /// Events per action over the last <paramref name="days"/> days (operators).
    public async Task<IReadOnlyList<TelemetryActionCount>> ListTelemetryActionsAsync(int days = 30, CancellationToken ct = default)
        => (await SendAsync<ArmList<TelemetryActionCount>>(HttpMethod.Get, $"telemetry/actions?days={days}", null, ct)).Value;
}
