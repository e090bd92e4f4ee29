using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lethe.Blobs;
using Lethe.Privacy;
using Lethe.Resources;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Workspaces;

/// Seed 000 and 001 for one person's erasure:
/// - memberships go, and a workspace whose only member (or only principal with a role on it) is the person is theirs
///   and is purged whole, soft-deleted or not (the generic delete would leave the workspace and its blobs behind);
/// - in a workspace they share, the job history documents of their runs keep the team's results with the person's
///   name, email and object ID replaced by the erasure's pseudonym (a blob location the generic source cannot read);
/// - the run rows themselves are pseudonymized by the generic source (ExperimentRun, Anonymize).
public static class WorkspacesPrivacy
{
    /// The history document's location: declared on the run that owns it, so job outputs and logs are not swept in.
    public static readonly PersonalBlobLocation HistoryDocuments = new(
        "Workspaces", "{storageAccount}", JobBlobs.RunsPrefix + "dcid.{jobId}/" + JobBlobs.HistoryDocumentName,
        PersonalDataCategory.Identifier, SubjectKind.ObjectId, ErasureStrategy.Anonymize,
        "Job history documents: the submitting user's name, email and object ID, in each workspace's storage. In a shared workspace they are pseudonymized, keeping the team's results.",
        Phase: -10);

    public static IEnumerable<IPersonalDataSource> Sources(LetheDb db, PersonalDataMap map, IBlobStore blobs)
    {
        ArgumentNullException.ThrowIfNull(map);
        yield return new MembershipSource(db, blobs, new TableSource<WorkspaceMember>(db, map.For<WorkspaceMember>()));
        yield return new HistoryDocumentSource(db, blobs);
    }

    /// The workspaces the person is a member of or holds a role on at the workspace's own scope.
    private static async Task<List<Workspace>> WorkspacesOfAsync(LetheDb db, SubjectKeys keys, CancellationToken ct)
    {
        var ids = keys.ObjectIds.ToList();
        var emails = keys.Emails.ToList();
        var byMembership = db.WorkspaceMembers.Where(m => ids.Contains(m.PrincipalId) || emails.Contains(m.Email)).Select(m => m.WorkspaceId);
        var workspaces = await db.Workspaces.AsNoTracking().Where(w => byMembership.Contains(w.Id)).ToListAsync(ct);
        var scopes = await db.RoleAssignments.AsNoTracking().Where(a => ids.Contains(a.PrincipalId)).Select(a => a.Scope).Distinct().ToListAsync(ct);
        foreach (var scope in scopes)
        {
            if (ResourceId.TryParse(scope, out var id, out _) && id.SubscriptionId is { } subscription && id.ResourceGroup is { } group
                && id.Segments.Count == 1 && string.Equals(id.ResourceType, Workspace.ProviderNamespace + "/" + Workspace.ResourceType, StringComparison.OrdinalIgnoreCase))
            {
                var groupKey = group.ToLowerInvariant();
                var nameKey = id.Name!.ToLowerInvariant();
                if (!workspaces.Exists(w => w.SubscriptionId == subscription && w.ResourceGroupKey == groupKey && w.NameKey == nameKey)
                    && await db.Workspaces.AsNoTracking().FirstOrDefaultAsync(w => w.SubscriptionId == subscription && w.ResourceGroupKey == groupKey && w.NameKey == nameKey, ct) is { } workspace)
                {
                    workspaces.Add(workspace);
                }
            }
        }
        return [.. workspaces.OrderBy(w => w.Id)];
    }

    /// The decision: a workspace is the person's own when nobody else is a member or holds a role on it.
    public static bool IsPersonal(IEnumerable<Guid> principals, IReadOnlySet<Guid> person)
    {
        ArgumentNullException.ThrowIfNull(principals);
        ArgumentNullException.ThrowIfNull(person);
        return principals.All(person.Contains);
    }

    private static async Task<bool> IsPersonalAsync(LetheDb db, Workspace workspace, SubjectKeys keys, CancellationToken ct)
    {
        var scope = workspace.ResourceId.Key;
        var members = await db.WorkspaceMembers.Where(m => m.WorkspaceId == workspace.Id)
            .Select(m => new { m.PrincipalId, m.Email }).ToListAsync(ct);
        var assigned = await db.RoleAssignments.Where(a => a.ScopeKey == scope).Select(a => a.PrincipalId).ToListAsync(ct);
        // A member row found by the person's email is theirs even if it carries another object ID.
        var others = members.Where(m => !keys.Emails.Contains(m.Email)).Select(m => m.PrincipalId).Concat(assigned);
        return IsPersonal(others, keys.ObjectIds);
    }

    private sealed class MembershipSource(LetheDb db, IBlobStore blobs, TableSource<WorkspaceMember> table) : IPersonalDataSource
    {
        public string Location => table.Location;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => table.FindAsync(keys, ct);

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            long records = 0;
            foreach (var workspace in await WorkspacesOfAsync(db, keys, ct))
            {
                if (await IsPersonalAsync(db, workspace, keys, ct))
                {
                    // Seed 000: a personal workspace goes with its person, blobs and tombstones included.
                    records += 1;
                    if (!context.DryRun)
                    {
                        await PurgeWorkspace.PurgeNowAsync(db, blobs, workspace, ct);
                    }
                }
            }
            if (table.Rows(keys) is { } rows)
            {
                records += context.DryRun ? await rows.LongCountAsync(ct) : await rows.ExecuteDeleteAsync(ct);
            }
            return new(records, ErasureOutcome.Deleted);
        }

        public Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct) => table.ScanAsync(keys, context, ct);
    }

    /// Reads and rewrites the documents one at a time (each is small and read whole, never a folder at once); a
    /// soft-deleted workspace's document is rewritten in place and soft-deleted again, so a recovery brings back the
    /// pseudonym, never the person.
    private sealed class HistoryDocumentSource(LetheDb db, IBlobStore blobs) : IPersonalBlobSource
    {
        public string Location => HistoryDocuments.Name;

        /// With <paramref name="documentsOnly"/>, runs whose history document the user deleted from storage are left out:
        /// it is gone, nothing to find or pseudonymize (their outputs and logs are still listed as the person's blobs).
        private IQueryable<RunDocument> Runs(SubjectKeys keys, bool documentsOnly = false)
        {
            var ids = keys.ObjectIds.ToList();
            return from r in db.ExperimentRuns.AsNoTracking()
                   join w in db.Workspaces.AsNoTracking() on r.WorkspaceId equals w.Id
                   where ids.Contains(r.SubmittedBy) && (!documentsOnly || r.HistoryDocumentDeletedAt == null)
                   orderby r.WorkspaceId, r.JobIdKey
                   select new RunDocument(w.StorageAccount, w.Name, r.JobId, w.DeletedAt != null);
        }

        public async IAsyncEnumerable<PersonalBlob> BlobsAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
        {
            // The history document of each job they submitted, and its outputs and logs (the job's folder).
            var runs = await Runs(keys).ToListAsync(ct);
            foreach (var run in runs)
            {
                var folder = JobBlobs.Folder(run.JobId);
                var listed = run.SoftDeleted ? blobs.ListDeletedAsync(run.Container, folder, ct) : blobs.ListAsync(run.Container, folder, ct);
                await foreach (var blob in listed)
                {
                    var note = blob.Name == JobBlobs.HistoryDocument(run.JobId)
                        ? "The history document of a job you submitted in workspace " + run.Workspace + "."
                        : "An output or log of a job you submitted in workspace " + run.Workspace + ".";
                    yield return new PersonalBlob(run.Container, blob.Name, run.SoftDeleted ? note + " The workspace is soft-deleted; its data is held until it is purged." : note)
                    {
                        SoftDeleted = run.SoftDeleted,
                    };
                }
            }
        }

        public async IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, [EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var run in Runs(keys, documentsOnly: true).AsAsyncEnumerable().WithCancellation(ct))
            {
                var document = run.SoftDeleted ? null : await ReadAsync(run.Container, JobBlobs.HistoryDocument(run.JobId), ct);
                if (document is null && !run.SoftDeleted)
                {
                    continue;
                }
                yield return new JsonObject
                {
                    ["workspace"] = run.Workspace,
                    ["jobId"] = run.JobId,
                    ["softDeleted"] = run.SoftDeleted,
                    ["document"] = document,
                };
            }
        }

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            long changed = 0;
            var runs = await Runs(keys, documentsOnly: true).ToListAsync(ct);
            foreach (var run in runs)
            {
                var name = JobBlobs.HistoryDocument(run.JobId);
                var restored = run.SoftDeleted && !context.DryRun && await blobs.UndeleteAsync(run.Container, name, ct);
                try
                {
                    var document = await ReadAsync(run.Container, name, ct);
                    if (document is null || !Pseudonymize(document, keys, context.Pseudonym))
                    {
                        if (run.SoftDeleted && context.DryRun)
                        {
                            changed++;
                        }
                        continue;
                    }
                    changed++;
                    if (!context.DryRun)
                    {
                        using var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(document, Indented));
                        await blobs.PutAsync(run.Container, name, content, "application/json", ct);
                    }
                }
                finally
                {
                    if (restored)
                    {
                        await blobs.SoftDeleteAsync(run.Container, name, CancellationToken.None);
                    }
                }
            }
            return new(changed, ErasureOutcome.Pseudonymized);
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            long found = 0;
            await foreach (var run in Runs(keys, documentsOnly: true).AsAsyncEnumerable().WithCancellation(ct))
            {
                if (run.SoftDeleted)
                {
                    found += await blobs.ListDeletedAsync(run.Container, JobBlobs.HistoryDocument(run.JobId), ct).AnyAsync(ct) ? 1 : 0;
                    continue;
                }
                if (await ReadAsync(run.Container, JobBlobs.HistoryDocument(run.JobId), ct) is { } document
                    && Pseudonymize(document, keys, context.Pseudonym))
                {
                    found++;
                }
            }
            return new(found);
        }

        private async Task<JsonNode?> ReadAsync(string container, string name, CancellationToken ct)
        {
            try
            {
                await using var stream = await blobs.OpenReadAsync(container, name, ct);
                return await JsonNode.ParseAsync(stream, cancellationToken: ct);
            }
            catch (BlobNotFoundException)
            {
                return null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    private sealed record RunDocument(string Container, string Workspace, string JobId, bool SoftDeleted);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// Replaces, anywhere in the document, each string that is one of the person's keys or names by the pseudonym's
    /// (object ID by object ID, email by email, name by name): the document keeps its shape. True when anything changed.
    public static bool Pseudonymize(JsonNode node, SubjectKeys keys, Pseudonym pseudonym)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(pseudonym);
        switch (node)
        {
            case JsonObject obj:
                var changed = false;
                foreach (var property in obj.ToList())
                {
                    if (property.Value is JsonValue value && value.TryGetValue<string>(out var text) && Replacement(text, keys, pseudonym) is { } replacement)
                    {
                        obj[property.Key] = replacement;
                        changed = true;
                    }
                    else if (property.Value is not null)
                    {
                        changed |= Pseudonymize(property.Value, keys, pseudonym);
                    }
                }
                return changed;
            case JsonArray array:
                var any = false;
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text) && Replacement(text, keys, pseudonym) is { } replacement)
                    {
                        array[i] = replacement;
                        any = true;
                    }
                    else if (array[i] is { } child)
                    {
                        any |= Pseudonymize(child, keys, pseudonym);
                    }
                }
                return any;
            default:
                return false;
        }
    }

    private static string? Replacement(string text, SubjectKeys keys, Pseudonym pseudonym)
    {
        if (Guid.TryParse(text, out var id) && keys.ObjectIds.Contains(id))
        {
            return pseudonym.ObjectId.ToString("D");
        }
        if (text.Contains('@', StringComparison.Ordinal) && keys.Emails.Contains(SubjectKeys.NormalizeEmail(text)))
        {
            return pseudonym.Email;
        }
        if (keys.AuthorIds.Contains(text))
        {
            return pseudonym.AuthorId;
        }
        return keys.Names.Contains(text.Trim()) ? pseudonym.Name : null;
    }
}
