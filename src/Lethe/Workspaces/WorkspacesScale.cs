using System.Globalization;
using System.Text.Json;
using Lethe.Demo;
using Lethe.Resources;

namespace Lethe.Workspaces;

/// The workspaces of `lethe seed --scale`: the lower half of each subscription's groups holds
/// <see cref="WorkspacesPerGroup"/> workspaces. A user with a role on such a group is a member of one of its
/// workspaces with that role (a member row and its role assignment at the workspace's scope, as
/// <see cref="WorkspaceMembers.Add"/> makes them); an Owner or Contributor has also submitted one to five jobs there.
/// A share of the jobs (<see cref="ScaleOptions.HistoryDocuments"/>) also has its job history document in the
/// workspace's storage, written before the rows that point at it.
public static class WorkspacesScale
{
    public const int WorkspacesPerGroup = 2;

    private static readonly string[] Experiments = ["churn-prediction", "demand-forecast", "image-classifier", "fraud-detection", "sentiment-analysis", "price-regression", "anomaly-detection", "recommender"];
    private static readonly string[] Adjectives = ["keen", "calm", "brave", "quiet", "bold", "eager", "gentle", "lucid", "swift", "wise"];
    private static readonly string[] Nouns = ["river", "forest", "comet", "harbor", "meadow", "canyon", "glacier", "island", "falcon", "ember"];

    public static bool HoldsWorkspaces(ScaleGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Number <= ScaleData.GroupsPerSubscription / 2;
    }

    public static Task<ScalePart> PartAsync(ScaleTarget target, ScaleOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var documents = new List<(string Container, JobHistoryDocument Document)>();
        var blobs = target.Blobs;
        return Task.FromResult(new ScalePart("workspaces",
            PerGroup: (group, random) => HoldsWorkspaces(group) ? Enumerable.Range(1, WorkspacesPerGroup).Select(k => (object)WorkspaceOf(group, k)) : [],
            PerUser: (user, random) => RowsOf(user, random, options, blobs is null ? null : documents),
            BeforeWrite: blobs is null ? null : async (db, token) =>
            {
                // A few at once: each is a file or an HTTP request, and the batch waits for all of them.
                await Parallel.ForEachAsync(documents, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = token },
                    (d, t) => new ValueTask(JobHistoryDocument.WriteAsync(blobs, d.Container, d.Document, t)));
                documents.Clear();
            }));
    }

    /// The <paramref name="k"/>th workspace of a group, the same whoever asks: a user's part finds the workspaces of
    /// their groups without a query. Companion names carry a suffix of the ID, unique as Azure's random ones are.
    public static Workspace WorkspaceOf(ScaleGroup group, int k)
    {
        ArgumentNullException.ThrowIfNull(group);
        var id = ScaleData.DerivedGuid(group.SubscriptionId, $"{group.Name}/workspaces/{k}");
        var name = $"scale-ws-{k}";
        var stem = $"scalews{k}";
        var suffix = id.ToString("N")[..10];
        return new Workspace
        {
            Id = id,
            SubscriptionId = group.SubscriptionId,
            ResourceGroup = group.Name,
            ResourceGroupKey = group.Name.ToLowerInvariant(),
            Name = name,
            NameKey = name,
            Location = group.Location,
            Sku = k % 2 == 0 ? WorkspaceSku.Paid : WorkspaceSku.Free,
            SoftDeleteRetentionDays = Workspace.DefaultRetentionDays,
            StorageAccount = stem + suffix,
            ContainerRegistry = stem + suffix,
            ApplicationInsights = $"{stem}-insights-{suffix}",
            KeyVault = "kv" + stem + suffix,
            CreatedAt = group.CreatedAt.AddHours(k),
        };
    }

    private static IEnumerable<object> RowsOf(ScaleUser user, Random random, ScaleOptions options, List<(string, JobHistoryDocument)>? documents)
    {
        foreach (var (group, role) in user.Roles)
        {
            if (!HoldsWorkspaces(group) || !WorkspaceMembers.Roles.Contains(role))
            {
                continue;
            }
            var workspace = WorkspaceOf(group, 1 + random.Next(WorkspacesPerGroup));
            var joined = Later(user.CreatedAt, workspace.CreatedAt).AddMinutes(random.Next(60 * 24 * 30));
            var assignment = RoleAssignment.Create(workspace.ResourceId, user.ObjectId, role, joined, ScaleData.NewGuid(random));
            yield return assignment;
            yield return new WorkspaceMember
            {
                WorkspaceId = workspace.Id,
                PrincipalId = user.ObjectId,
                Email = user.Email,
                DisplayName = user.DisplayName,
                Role = role,
                RoleAssignmentId = assignment.Id,
                AddedAt = joined,
            };
            if (role == Role.Reader)
            {
                continue;
            }
            var runs = 1 + random.Next(5);
            for (var n = 0; n < runs; n++)
            {
                // Unique in the workspace: the user's index and the run's number end the name.
                var jobId = string.Create(CultureInfo.InvariantCulture, $"{Adjectives[random.Next(Adjectives.Length)]}_{Nouns[random.Next(Nouns.Length)]}_{user.Index:x}r{n}");
                var experiment = Experiments[random.Next(Experiments.Length)];
                var parameters = new Dictionary<string, string>
                {
                    ["learning_rate"] = (0.001 * (1 + random.Next(100))).ToString("0.000", CultureInfo.InvariantCulture),
                    ["epochs"] = (5 * (1 + random.Next(20))).ToString(CultureInfo.InvariantCulture),
                };
                var submitted = ScaleData.Between(joined, options.Epoch, random);
                var roll = random.Next(100);
                var status = roll < 75 ? RunStatus.Completed : roll < 88 ? RunStatus.Failed : roll < 95 ? RunStatus.Canceled : roll < 98 ? RunStatus.Running : RunStatus.Queued;
                var title = $"{experiment} #{n + 1}";
                var archived = random.Next(10) == 0 ? submitted.AddDays(1 + random.Next(30)) : (DateTimeOffset?)null;
                // Drawn whether or not documents are written, so that the rows never depend on it.
                var withDocument = random.NextDouble() < options.HistoryDocuments;
                if (withDocument && documents is not null)
                {
                    documents.Add((workspace.StorageAccount, new JobHistoryDocument(jobId, experiment, title, submitted, parameters,
                        new JobHistoryUser(user.DisplayName, user.Email, user.ObjectId))));
                }
                yield return new ExperimentRun
                {
                    WorkspaceId = workspace.Id,
                    JobId = jobId,
                    JobIdKey = jobId.ToLowerInvariant(),
                    ExperimentName = experiment,
                    Title = title,
                    Status = status,
                    Parameters = JsonSerializer.Serialize(parameters),
                    SubmittedBy = user.ObjectId,
                    SubmittedAt = submitted,
                    ArchivedAt = archived,
                };
            }
        }
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
