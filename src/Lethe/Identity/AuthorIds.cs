using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Identity;

/// Derives author IDs under this deployment's secret. The secret never changes, so it is read
/// once per process and kept.
public sealed class AuthorIds(IServiceScopeFactory scopes, TimeProvider clock)
{
    private byte[]? _secret;

    public async ValueTask<string> ForAsync(string email, CancellationToken ct)
    {
        if (_secret is null)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            _secret = await DeploymentSecret.GetOrCreateAsync(db, DeploymentSecret.AuthorIdKey, clock, ct);
        }
        return AuthorId.For(email, _secret);
    }
}
