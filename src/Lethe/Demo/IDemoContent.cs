namespace Lethe.Demo;

/// What a module adds to `lethe serve --demo` after the demo accounts, subscription and resource
/// groups exist (workspaces, gallery entities, labs). Registered in DI by the module; run in a scope at
/// start. Must be idempotent: a database that already holds the content is left as it is.
public interface IDemoContent
{
    /// Runs in the order of this value, lowest first (a module that needs another's content runs after it).
    int Order => 0;

    Task EnsureAsync(IServiceProvider services, CancellationToken ct);
}
