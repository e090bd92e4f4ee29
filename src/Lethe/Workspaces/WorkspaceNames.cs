using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Lethe.Blobs;
using Lethe.Resources;

namespace Lethe.Workspaces;

/// The naming rules of workspaces and what they hold. Each returns the problem, safe to show, or null.
/// Names reach blob paths (job IDs, model files), so they are checked before anything is read or written.
public static partial class WorkspaceNames
{
    public const int MaxWorkspaceName = 33;
    public const int MaxAssetName = 255;
    public const int MaxJobId = 128;

    /// Azure ML's rule: 3 to 33 characters, letters, digits, '-' and '_', starting with a letter or a digit.
    public static string? WorkspaceNameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length is < 3 or > MaxWorkspaceName)
        {
            return $"A workspace name has 3 to {MaxWorkspaceName} characters.";
        }
        if (!char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return "A workspace name holds only letters, digits, '-' and '_', and starts with a letter or a digit.";
        }
        return null;
    }

    /// Asset and experiment names: letters, digits, '-', '_' and '.', starting with a letter or a digit.
    public static string? AssetNameProblem(string? name, string what = "asset name")
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxAssetName)
        {
            return $"An {what} has 1 to {MaxAssetName} characters.";
        }
        if (!char.IsAsciiLetterOrDigit(name[0]) || name.EndsWith('.') || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return $"An {what} holds only letters, digits, '-', '_' and '.', starts with a letter or a digit and does not end with '.'.";
        }
        return null;
    }

    /// A job ID becomes a folder name (<c>dcid.{jobId}</c>): no separators, no dots that could climb up.
    public static string? JobIdProblem(string? jobId)
    {
        if (string.IsNullOrEmpty(jobId) || jobId.Length > MaxJobId)
        {
            return $"A job ID has 1 to {MaxJobId} characters.";
        }
        if (!char.IsAsciiLetterOrDigit(jobId[0]) || !jobId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return "A job ID holds only letters, digits, '-' and '_', and starts with a letter or a digit.";
        }
        return null;
    }

    /// An artifact of a job: a relative blob path under <c>outputs/</c> or <c>logs/</c>.
    public static string? ArtifactPathProblem(string? path)
    {
        if (BlobNames.NameError(path) is { } error)
        {
            return error.Replace("Blob name", "An artifact path", StringComparison.Ordinal);
        }
        if (!path!.StartsWith("outputs/", StringComparison.Ordinal) && !path.StartsWith("logs/", StringComparison.Ordinal))
        {
            return "An artifact path starts with 'outputs/' or 'logs/'.";
        }
        return null;
    }

    /// A file of a model version: a relative blob path.
    public static string? FilePathProblem(string? path)
        => BlobNames.NameError(path)?.Replace("Blob name", "A file path", StringComparison.Ordinal);

    /// A path in the workspace's storage that users may write and delete: any valid path outside the
    /// folders Lethe manages itself (job data under azureml/, model files under models/).
    public static string? StoragePathProblem(string? path)
    {
        if (BlobNames.NameError(path) is { } error)
        {
            return error.Replace("Blob name", "A storage path", StringComparison.Ordinal);
        }
        if (path!.StartsWith(JobBlobs.Root, StringComparison.OrdinalIgnoreCase) || path.StartsWith(ModelBlobs.Root, StringComparison.OrdinalIgnoreCase))
        {
            return "The folders 'azureml/' and 'models/' are managed by jobs and models; change them through those.";
        }
        return null;
    }

    /// A path to read or delete in the storage browser: any valid blob name, the managed folders included.
    public static string? StorageReadPathProblem(string? path)
        => BlobNames.NameError(path)?.Replace("Blob name", "A storage path", StringComparison.Ordinal);

    /// Job files (history documents, outputs, logs) can be deleted from storage; a model's files go with the model.
    public static string? StorageDeletePathProblem(string? path)
        => StorageReadPathProblem(path)
            ?? (path!.StartsWith(ModelBlobs.Root, StringComparison.OrdinalIgnoreCase) ? "A model's files are deleted with the model (DELETE …/models/{name})." : null);

    public static string? LocationProblem(string? location)
        => string.IsNullOrEmpty(location) || location.Length > 64 || !location.All(char.IsAsciiLetterOrDigit)
            ? "A location is 1 to 64 letters and digits, such as 'westeurope'."
            : null;

    /// Companion resource names, as Azure ML makes them: the workspace's letters and digits and a random suffix,
    /// so they are unique and a recreated workspace never meets its predecessor's data.
    public static (string Storage, string Registry, string Insights, string KeyVault) CompanionNames(string workspaceName)
    {
        var stem = new string(workspaceName.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant).Take(12).ToArray());
        if (stem.Length == 0 || !char.IsAsciiLetter(stem[0]))
        {
            stem = "ws" + stem;
            stem = stem[..Math.Min(12, stem.Length)];
        }
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        return ($"{stem}{suffix}", $"{stem}{suffix}", $"{stem}-insights-{suffix}", $"kv{stem}{suffix}"[..Math.Min(24, 2 + stem.Length + suffix.Length)]);
    }

    /// True for a name <see cref="CompanionNames"/> makes for a storage account (a stem and 10 hex digits): the
    /// containers the Workspaces module owns, as opposed to the other modules' fixed ones.
    public static bool IsStorageAccountName(string container) => StorageAccountName().IsMatch(container);

    [GeneratedRegex("^[a-z][a-z0-9]{0,11}[0-9a-f]{10}$", RegexOptions.CultureInvariant)]
    private static partial Regex StorageAccountName();
}

/// Azure-style IDs of a workspace and its companion resources.
public static class WorkspaceIds
{
    public static ResourceId Workspace(Guid subscriptionId, string resourceGroup, string name)
        => ResourceId.ForResourceGroup(subscriptionId, resourceGroup).Child(Workspaces.Workspace.ProviderNamespace, Workspaces.Workspace.ResourceType, name);

    public static ResourceId StorageAccount(Workspace w) => Group(w).Child("Microsoft.Storage", "storageAccounts", w.StorageAccount);

    public static ResourceId ContainerRegistry(Workspace w) => Group(w).Child("Microsoft.ContainerRegistry", "registries", w.ContainerRegistry);

    public static ResourceId ApplicationInsights(Workspace w) => Group(w).Child("Microsoft.Insights", "components", w.ApplicationInsights);

    public static ResourceId KeyVault(Workspace w) => Group(w).Child("Microsoft.KeyVault", "vaults", w.KeyVault);

    private static ResourceId Group(Workspace w) => ResourceId.ForResourceGroup(w.SubscriptionId, w.ResourceGroup);

    public static string Version(int version) => version.ToString(CultureInfo.InvariantCulture);
}

/// Where a job's blobs live in its workspace's storage (seed 001: job history documents under azureml/).
public static class JobBlobs
{
    public const string Root = "azureml/";
    public const string RunsPrefix = "azureml/ExperimentRun/";
    public const string HistoryDocumentName = "history.json";

    public static string Folder(string jobId) => $"{RunsPrefix}dcid.{jobId}/";

    public static string HistoryDocument(string jobId) => Folder(jobId) + HistoryDocumentName;

    public static string Artifact(string jobId, string path) => Folder(jobId) + path;

    /// The job whose history document <paramref name="path"/> names exactly, or null.
    public static string? JobOfHistoryDocument(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        const string start = RunsPrefix + "dcid.";
        const string end = "/" + HistoryDocumentName;
        if (!path.StartsWith(start, StringComparison.Ordinal) || !path.EndsWith(end, StringComparison.Ordinal) || path.Length <= start.Length + end.Length)
        {
            return null;
        }
        var id = path[start.Length..^end.Length];
        return WorkspaceNames.JobIdProblem(id) is null ? id : null;
    }
}

public static class ModelBlobs
{
    public const string Root = "models/";

    public static string Folder(string name, int version) => $"{Root}{name}/{WorkspaceIds.Version(version)}/";

    /// The folder of one registration's files, named by the registration rather than by the version: two registrations
    /// at once that race for the same version number never write into each other's files (decision 0070).
    public static string Folder(string name, Guid registration) => $"{Root}{name}/{registration:N}/";
}
