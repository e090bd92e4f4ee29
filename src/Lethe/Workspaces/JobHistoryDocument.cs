using System.Text.Json;
using System.Text.Json.Serialization;
using Lethe.Blobs;

namespace Lethe.Workspaces;

/// The job history document (seed 001): a JSON blob at <c>azureml/ExperimentRun/dcid.{jobId}/history.json</c>
/// in the workspace's storage, holding the run's facts and the submitting user's name, email and object ID:
/// the personal data of Azure ML. Registered as a personal blob location.
public sealed record JobHistoryDocument(
    string RunId,
    string ExperimentName,
    string? DisplayTitle,
    DateTimeOffset CreatedUtc,
    IReadOnlyDictionary<string, string> Parameters,
    JobHistoryUser CreatedBy)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task WriteAsync(IBlobStore blobs, string container, JobHistoryDocument document, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(document);
        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(document, Json));
        await blobs.PutAsync(container, JobBlobs.HistoryDocument(document.RunId), content, "application/json", ct);
    }

    public static async Task<JobHistoryDocument?> ReadAsync(IBlobStore blobs, string container, string jobId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        try
        {
            await using var stream = await blobs.OpenReadAsync(container, JobBlobs.HistoryDocument(jobId), ct);
            return await JsonSerializer.DeserializeAsync<JobHistoryDocument>(stream, Json, ct);
        }
        catch (BlobNotFoundException)
        {
            return null;
        }
    }
}

/// The submitting user as the history document records it.
public sealed record JobHistoryUser(
    [property: JsonPropertyName("userName")] string UserName,
    [property: JsonPropertyName("userEmail")] string? UserEmail,
    [property: JsonPropertyName("userObjectId")] Guid UserObjectId);
