using System.Collections.Concurrent;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Workspaces;

/// Servers per (database, blob backend): the Workspaces module keeps rows and blobs, so its tests run on
/// SQLite and PostgreSQL, each with the file-system store and with Azure Blob Storage (Azurite).
public sealed class WorkspaceHosts : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(DatabaseProvider, BlobProvider), Lazy<Task<LetheHost>>> _hosts = new();

    public static TheoryData<DatabaseProvider, BlobProvider> Backends => new()
    {
        { DatabaseProvider.Sqlite, BlobProvider.FileSystem },
        { DatabaseProvider.Postgres, BlobProvider.FileSystem },
        { DatabaseProvider.Sqlite, BlobProvider.Azure },
        { DatabaseProvider.Postgres, BlobProvider.Azure },
    };

    public Task<LetheHost> GetAsync(DatabaseProvider database, BlobProvider blobs)
        => _hosts.GetOrAdd((database, blobs), key => new Lazy<Task<LetheHost>>(() => StartAsync(key.Item1, key.Item2))).Value;

    private static Task<LetheHost> StartAsync(DatabaseProvider database, BlobProvider blobs)
    {
        var settings = new Dictionary<string, string?>();
        if (blobs == BlobProvider.Azure)
        {
            settings["Lethe:Blobs:Provider"] = "Azure";
            settings["Lethe:Blobs:ConnectionString"] = TestEnvironment.Azurite;
            // Its own containers in the shared Azurite.
            settings["Lethe:Blobs:ContainerPrefix"] = $"ws{Guid.NewGuid():N}"[..14] + "-";
        }
        return LetheHost.StartAsync(database, settings);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _hosts.Values)
        {
            var start = lazy.Value;
            await ((Task)start).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (start.IsCompletedSuccessfully)
            {
                await start.Result.DisposeAsync();
            }
        }
    }
}

/// What the workspace tests start from: a subscription of their own with a group, and a workspace in it.
internal sealed record WorkspaceScenario(LetheHost Host, Guid SubscriptionId, string Group, string Name, LetheClient Operator)
{
    public static async Task<WorkspaceScenario> CreateAsync(LetheHost host, CancellationToken ct, string name = "ws-main", CreateWorkspaceRequest? request = null)
    {
        var (id, op) = await host.NewSubscriptionAsync(ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "ml-rg", "westeurope", ct);
        await op.CreateOrUpdateWorkspaceAsync(id, "ml-rg", name, request ?? new CreateWorkspaceRequest("westeurope"), ct);
        return new WorkspaceScenario(host, id, "ml-rg", name, op);
    }

    public string Scope => $"/subscriptions/{SubscriptionId:D}/resourceGroups/{Group}";

    public string WorkspaceScope => $"{Scope}/providers/Microsoft.MachineLearningServices/workspaces/{Name}";

    public Task<TestUser> UserAsync(string role, CancellationToken ct) => Host.NewUserWithRoleAsync(Operator, Scope, role, ct);

    public async Task<string> ContainerAsync(CancellationToken ct)
        => (await Operator.GetWorkspaceAsync(SubscriptionId, Group, Name, ct)).Properties.StorageAccount.Split('/')[^1];

    public IBlobStore Blobs => Host.Factory.Services.GetRequiredService<IBlobStore>();

    public async Task<List<string>> BlobNamesAsync(string container, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var blob in Blobs.ListAsync(container, null, ct))
        {
            names.Add(blob.Name);
        }
        return names;
    }

    public async Task<List<string>> DeletedBlobNamesAsync(string container, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var blob in Blobs.ListDeletedAsync(container, null, ct))
        {
            names.Add(blob.Name);
        }
        return names;
    }
}
