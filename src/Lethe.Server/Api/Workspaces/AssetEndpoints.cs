using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Resources;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Workspaces;

/// Data assets, models, notebooks, pipelines, computes and experiments of a workspace. Any of them can be
/// deleted: a data asset is unregistered (its data stays in storage), a model goes with its files.
internal static class AssetEndpoints
{
    public const int MaxModelFiles = 1000;

    /// Registrations of one model at once each take the next free version; this bounds how often one retries.
    private const int MaxVersionAttempts = 32;

    public static void Map(RouteGroupBuilder ws)
    {
        ws.MapGet("/{kind}", ListAsync).WithName("ListAssets").Produces<ArmList<AssetResource>>();
        ws.MapGet("/{kind}/{name}", GetAsync).WithName("GetAsset").Produces<AssetResource>();
        ws.MapPut("/{kind}/{name}", PutAsync).WithName("PutAsset").Produces<AssetResource>().Produces<AssetResource>(StatusCodes.Status201Created);
        ws.MapDelete("/{kind}/{name}", DeleteAsync).WithName("DeleteAsset").Produces(StatusCodes.Status204NoContent);
        ws.MapPost("/models/{name}/versions", RegisterModelAsync).WithName("RegisterModel").Produces<AssetResource>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict).DisableAntiforgery()
            .AcceptsFiles("files", MaxModelFiles, "The model's files as multipart/form-data.", ("description", "What the model version is.", 1024));
        ws.MapGet("/models/{name}/versions", ListModelVersionsAsync).WithName("ListModelVersions").Produces<ArmList<AssetResource>>();
        ws.MapGet("/models/{name}/versions/{version:int}/download", DownloadModelAsync).WithName("DownloadModel").Produces(StatusCodes.Status200OK, contentType: "application/zip");
    }

    public static AssetKind? KindOf(string segment) => segment switch
    {
        AssetKinds.Data => AssetKind.Data,
        AssetKinds.Models => AssetKind.Model,
        AssetKinds.Notebooks => AssetKind.Notebook,
        AssetKinds.Pipelines => AssetKind.Pipeline,
        AssetKinds.Computes => AssetKind.Compute,
        AssetKinds.Experiments => AssetKind.Experiment,
        _ => null,
    };

    public static string SegmentOf(AssetKind kind) => kind switch
    {
        AssetKind.Data => AssetKinds.Data,
        AssetKind.Model => AssetKinds.Models,
        AssetKind.Notebook => AssetKinds.Notebooks,
        AssetKind.Pipeline => AssetKinds.Pipelines,
        AssetKind.Compute => AssetKinds.Computes,
        _ => AssetKinds.Experiments,
    };

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? KindProblem(string kind, out AssetKind parsed)
    {
        parsed = default;
        if (KindOf(kind) is not { } k)
        {
            return Problems.NotFound("The asset kind");
        }
        parsed = k;
        return null;
    }

    /// The latest version of each asset of one kind, by name, a page at a time (`$top`, `$skipToken`).
    public static async Task<IResult> ListAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string kind, HttpRequest request,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (KindProblem(kind, out var k) is { } problem)
        {
            return problem;
        }
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var workspace = lookup.Workspace!;
        var assets = db.WorkspaceAssets.AsNoTracking().Where(a => a.WorkspaceId == workspace.Id && a.Kind == k);
        // Latest version of each name, filtered in the database so that pages count names, not versions;
        // the name key is unique among those, the ID breaks any tie all the same.
        var latest = assets.Where(a => !assets.Any(b => b.NameKey == a.NameKey && b.Version > a.Version)).OrderBy(a => a.NameKey).ThenBy(a => a.Id);
        return TypedResults.Ok(await Paging.PageAsync(latest, request, top, skipToken, a => ToResource(workspace, a), ct));
    }

    public static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string workspaceName, string kind, string name, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (KindProblem(kind, out var k) is { } problem)
        {
            return problem;
        }
        if (WorkspaceNames.AssetNameProblem(name) is { } nameProblem)
        {
            return Problems.Invalid("name", nameProblem);
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var key = name.ToLowerInvariant();
        var asset = await db.WorkspaceAssets.AsNoTracking().Where(a => a.WorkspaceId == lookup.Workspace!.Id && a.Kind == k && a.NameKey == key)
            .OrderByDescending(a => a.Version).FirstOrDefaultAsync(ct);
        return asset is null ? Problems.NotFound("The asset") : TypedResults.Ok(ToResource(lookup.Workspace!, asset));
    }

    public static async Task<IResult> PutAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string kind, string name, PutAssetRequest request,
        ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, TimeProvider clock, CancellationToken ct)
    {
        if (KindProblem(kind, out var k) is { } problem)
        {
            return problem;
        }
        if (k == AssetKind.Model)
        {
            return Problems.Invalid("kind", "A model is registered with its files: POST .../models/{name}/versions.");
        }
        if (WorkspaceNames.AssetNameProblem(name) is { } nameProblem)
        {
            return Problems.Invalid("name", nameProblem);
        }
        if (request.Description is { Length: > 1024 } || request.Description?.Any(char.IsControl) == true)
        {
            return Problems.Invalid("description", "A description has at most 1024 characters and no control characters.");
        }
        var properties = request.Properties ?? new Dictionary<string, string>();
        var json = JsonSerializer.Serialize(properties);
        if (json.Length > 8000)
        {
            return Problems.Invalid("properties", "The properties take at most 8000 characters as JSON.");
        }
        if (k == AssetKind.Data && WorkspaceNames.StoragePathProblem(request.Path) is { } pathProblem)
        {
            return Problems.Invalid("path", "A data asset registers data in the workspace's storage: " + pathProblem);
        }
        if (k != AssetKind.Data && request.Path is not null)
        {
            return Problems.Invalid("path", "Only data assets have a path.");
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var workspace = lookup.Workspace!;
        if (k == AssetKind.Data && await blobs.GetPropertiesAsync(workspace.StorageAccount, request.Path!, ct) is null)
        {
            return Problems.Invalid("path", "There is no data at this path in the workspace's storage.");
        }
        var key = name.ToLowerInvariant();
        var existing = await db.WorkspaceAssets.FirstOrDefaultAsync(a => a.WorkspaceId == workspace.Id && a.Kind == k && a.NameKey == key, ct);
        if (existing is not null)
        {
            existing.Description = request.Description;
            existing.Path = request.Path;
            existing.Properties = json;
            await db.SaveChangesAsync(ct);
            return TypedResults.Ok(ToResource(workspace, existing));
        }
        var asset = new WorkspaceAsset
        {
            Id = Guid.NewGuid(), WorkspaceId = workspace.Id, Kind = k, Name = name, NameKey = key, Version = 1,
            Description = request.Description, Path = request.Path, Properties = json, CreatedAt = clock.GetUtcNow(),
        };
        db.WorkspaceAssets.Add(asset);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created(ToResource(workspace, asset).Id, ToResource(workspace, asset));
    }

    public static async Task<IResult> DeleteAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string kind, string name, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        if (KindProblem(kind, out var k) is { } problem)
        {
            return problem;
        }
        if (WorkspaceNames.AssetNameProblem(name) is { } nameProblem)
        {
            return Problems.Invalid("name", nameProblem);
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        return await DeleteAsset.RunAsync(db, blobs, lookup.Workspace!, k, name, ct) ? TypedResults.NoContent() : Problems.NotFound("The asset");
    }

    public static async Task<IResult> RegisterModelAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string name, HttpRequest request,
        ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, TimeProvider clock, CancellationToken ct)
    {
        if (WorkspaceNames.AssetNameProblem(name, "model name") is { } nameProblem)
        {
            return Problems.Invalid("name", nameProblem);
        }
        if (!request.HasFormContentType)
        {
            return Problems.Invalid("files", "Send the model's files as multipart/form-data parts named 'files', each with its path as the file name.");
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var form = await RequestProblems.ReadFormAsync(request, ct);
        var files = form.Files.GetFiles("files");
        if (files.Count is 0 or > MaxModelFiles)
        {
            return Problems.Invalid("files", $"A model version has 1 to {MaxModelFiles} files.");
        }
        foreach (var file in files)
        {
            if (WorkspaceNames.FilePathProblem(file.FileName) is { } fileProblem)
            {
                return Problems.Invalid("files", fileProblem);
            }
        }
        if (files.Select(f => f.FileName).Distinct(StringComparer.Ordinal).Count() != files.Count)
        {
            return Problems.Invalid("files", "Two files have the same path.");
        }
        var description = form["description"].ToString();
        if (description.Length > 1024 || description.Any(char.IsControl))
        {
            return Problems.Invalid("description", "A description has at most 1024 characters and no control characters.");
        }
        var workspace = lookup.Workspace!;
        var key = name.ToLowerInvariant();
        var id = Guid.NewGuid();
        var folder = ModelBlobs.Folder(key, id);
        foreach (var file in files)
        {
            await using var content = file.OpenReadStream();
            if (!await WorkspaceFence.PutAsync(db, blobs, workspace, null, folder + file.FileName, content, null, ct))
            {
                // The workspace was deleted meanwhile: what this registration wrote goes with it.
                await blobs.PurgePrefixAsync(workspace.StorageAccount, folder, CancellationToken.None);
                return Problems.NotFound("The workspace");
            }
        }
        // The files are in a folder of this registration's own; the version is the next free number, and the unique
        // index on it arbitrates registrations at once: the loser takes the number after the winner's.
        for (var attempt = 0; attempt < MaxVersionAttempts; attempt++)
        {
            var latest = await db.WorkspaceAssets.Where(a => a.WorkspaceId == workspace.Id && a.Kind == AssetKind.Model && a.NameKey == key)
                .MaxAsync(a => (int?)a.Version, ct) ?? 0;
            var asset = new WorkspaceAsset
            {
                Id = id, WorkspaceId = workspace.Id, Kind = AssetKind.Model, Name = name, NameKey = key, Version = latest + 1,
                Description = description.Length == 0 ? null : description, Path = folder, CreatedAt = clock.GetUtcNow(),
            };
            db.WorkspaceAssets.Add(asset);
            try
            {
                await db.SaveChangesAsync(ct);
                return TypedResults.Created(ToResource(workspace, asset).Id, ToResource(workspace, asset));
            }
            catch (DbUpdateException e) when (DatabaseConflict.Is(e))
            {
                db.ChangeTracker.Clear();
            }
        }
        // No row names these files: they go now, not with a sweep.
        await blobs.PurgePrefixAsync(workspace.StorageAccount, folder, CancellationToken.None);
        return Problems.Conflict("Many versions of this model were registered at the same time; register again.");
    }

    /// A model's versions, oldest first, a page at a time (`$top`, `$skipToken`); 404 when the model has none.
    public static async Task<IResult> ListModelVersionsAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string name, HttpRequest request,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (WorkspaceNames.AssetNameProblem(name, "model name") is { } nameProblem)
        {
            return Problems.Invalid("name", nameProblem);
        }
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var workspace = lookup.Workspace!;
        var key = name.ToLowerInvariant();
        var versions = db.WorkspaceAssets.AsNoTracking().Where(a => a.WorkspaceId == workspace.Id && a.Kind == AssetKind.Model && a.NameKey == key);
        // The version is unique for a name (a unique index); the ID breaks any tie all the same.
        var page = await Paging.PageAsync(versions.OrderBy(a => a.Version).ThenBy(a => a.Id), request, top, skipToken, a => ToResource(workspace, a), ct);
        // An empty page past the first may still belong to a model that exists.
        return page.Value.Count == 0 && (skipToken is null || !await versions.AnyAsync(ct)) ? Problems.NotFound("The model") : TypedResults.Ok(page);
    }

    public static async Task<IResult> DownloadModelAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string name, int version, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        if (WorkspaceNames.AssetNameProblem(name, "model name") is { } nameProblem)
        {
            return Problems.Invalid("name", nameProblem);
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var key = name.ToLowerInvariant();
        var asset = await db.WorkspaceAssets.AsNoTracking()
            .FirstOrDefaultAsync(a => a.WorkspaceId == lookup.Workspace!.Id && a.Kind == AssetKind.Model && a.NameKey == key && a.Version == version, ct);
        if (asset is null)
        {
            return Problems.NotFound("The model version");
        }
        var container = lookup.Workspace!.StorageAccount;
        var folder = asset.Path ?? ModelBlobs.Folder(key, version);
        return Results.Stream(async body => await ArtifactArchive.WriteAsync(blobs, container, folder, body, null, ct), "application/zip",
            $"{asset.Name}-{version.ToString(CultureInfo.InvariantCulture)}.zip");
    }

    public static AssetResource ToResource(Workspace workspace, WorkspaceAsset a) => new(
        $"{workspace.ResourceId.Value}/{SegmentOf(a.Kind)}/{a.Name}" + (a.Kind == AssetKind.Model ? $"/versions/{a.Version.ToString(CultureInfo.InvariantCulture)}" : ""),
        SegmentOf(a.Kind), a.Name, a.Version, a.Description, a.Path,
        JsonSerializer.Deserialize<Dictionary<string, string>>(a.Properties) ?? [], a.CreatedAt);
}
