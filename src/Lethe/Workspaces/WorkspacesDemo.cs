using System.Text;
using Lethe.Blobs;
using Lethe.Demo;
using Lethe.Resources;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Workspaces;

/// `lethe serve --demo`: a workspace in ml-rg with its companions, members, assets of each kind, a job
/// with its history document, outputs and logs, and a model with files.
public sealed class WorkspacesDemo : IDemoContent
{
    public const string WorkspaceName = "contoso-ml";
    public const string JobId = "keen_river_7x2k9";

    public async Task EnsureAsync(IServiceProvider services, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        var db = services.GetRequiredService<LetheDb>();
        var blobs = services.GetRequiredService<IBlobStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (await db.FindWorkspaceAsync(DemoAccounts.SubscriptionId, DemoAccounts.MlResourceGroup, WorkspaceName, ct) is not null)
        {
            return;
        }
        var key = DemoAccounts.MlResourceGroup.ToLowerInvariant();
        var group = await db.ResourceGroups.FirstOrDefaultAsync(g => g.SubscriptionId == DemoAccounts.SubscriptionId && g.NameKey == key, ct);
        if (group is null)
        {
            return;
        }
        var workspace = CreateWorkspace.New(group, WorkspaceName, group.Location, WorkspaceSku.Free, Workspace.DefaultRetentionDays, purgeProtection: false, now);
        db.Workspaces.Add(workspace);
        var owner = DemoAccounts.WorkspaceOwner;
        var contributor = DemoAccounts.Contributor;
        WorkspaceMembers.Add(db, workspace, owner.ObjectId, owner.Email, owner.DisplayName, Role.Owner, now);
        WorkspaceMembers.Add(db, workspace, contributor.ObjectId, contributor.Email, contributor.DisplayName, Role.Contributor, now);

        await PutAsync(blobs, workspace, "datasets/iris.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n", ct);
        Add(db, workspace, AssetKind.Data, "iris", 1, "The iris flower data set", "datasets/iris.csv", "{}", now);
        Add(db, workspace, AssetKind.Notebook, "explore-iris", 1, "First look at the data", null, "{}", now);
        Add(db, workspace, AssetKind.Pipeline, "train-pipeline", 1, "Prepare, train, evaluate", null, """{"steps":"prepare,train,evaluate"}""", now);
        Add(db, workspace, AssetKind.Compute, "cpu-cluster", 1, "Training cluster", null, """{"vmSize":"STANDARD_DS3_V2"}""", now);
        Add(db, workspace, AssetKind.Experiment, "iris-classifier", 1, "Classify iris species", null, "{}", now);

        var modelFolder = ModelBlobs.Folder("iris-model", 1);
        await PutAsync(blobs, workspace, modelFolder + "model.json", """{"type":"logistic-regression","classes":["setosa","versicolor","virginica"]}""", ct);
        await PutAsync(blobs, workspace, modelFolder + "conda.yaml", "dependencies:\n  - python=3.11\n  - scikit-learn\n", ct);
        Add(db, workspace, AssetKind.Model, "iris-model", 1, "Logistic regression on iris", modelFolder, "{}", now);
        await db.SaveChangesAsync(ct);

        await SubmitJob.RunAsync(db, blobs, workspace, JobId, "iris-classifier", "Train with C=1.0",
            new Dictionary<string, string> { ["learning_rate"] = "0.01", ["C"] = "1.0" },
            new JobHistoryUser(contributor.DisplayName, contributor.Email, contributor.ObjectId), now, ct);
        await PutAsync(blobs, workspace, JobBlobs.Artifact(JobId, "outputs/metrics.json"), """{"accuracy":0.96}""", ct);
        await PutAsync(blobs, workspace, JobBlobs.Artifact(JobId, "outputs/model/model.pkl"), "demo model bytes", ct);
        await PutAsync(blobs, workspace, JobBlobs.Artifact(JobId, "logs/std_log.txt"), "epoch 1 loss 0.42\nepoch 2 loss 0.21\n", ct);
    }

    private static void Add(LetheDb db, Workspace workspace, AssetKind kind, string name, int version, string description, string? path, string properties, DateTimeOffset now)
        => db.WorkspaceAssets.Add(new WorkspaceAsset
        {
            Id = Guid.NewGuid(),
            WorkspaceId = workspace.Id,
            Kind = kind,
            Name = name,
            NameKey = name.ToLowerInvariant(),
            Version = version,
            Description = description,
            Path = path,
            Properties = properties,
            CreatedAt = now,
        });

    private static async Task PutAsync(IBlobStore blobs, Workspace workspace, string name, string text, CancellationToken ct)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text));
        await blobs.PutAsync(workspace.StorageAccount, name, content, null, ct);
    }
}
