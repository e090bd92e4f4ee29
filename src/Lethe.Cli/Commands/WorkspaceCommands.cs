using System.CommandLine;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe workspace ...`, `lethe job ...`, `lethe model ...`: Azure ML workspaces and what they hold.
internal static class WorkspaceCommands
{
    /// The options that name a workspace; each command gets its own instances (an option has one parent).
    private sealed class Target
    {
        public Option<Guid> Subscription { get; } = new("--subscription", "-s") { Description = "The subscription ID (a GUID)", Required = true, HelpName = "ID" };
        public Option<string> Group { get; } = new("--resource-group", "-g") { Description = "The resource group's name", Required = true, HelpName = "NAME" };
        public Option<string> Workspace { get; } = new("--workspace", "-w") { Description = "The workspace's name", Required = true, HelpName = "NAME" };

        public Option[] All => [Subscription, Group, Workspace];

        public (Guid Subscription, string Group, string Workspace) Of(Invocation run) => (run.Value(Subscription), run.Value(Group)!, run.Value(Workspace)!);
    }

    public static Command CreateWorkspace(Terminal terminal, CommonOptions options)
    {
        var listSub = new Option<Guid>("--subscription", "-s") { Description = "The subscription ID (a GUID)", Required = true, HelpName = "ID" };
        var listGroup = new Option<string?>("--resource-group", "-g") { Description = "Only this resource group's workspaces", HelpName = "NAME" };
        var deleted = new Option<bool>("--deleted") { Description = "List soft-deleted workspaces (recoverable until their purge date)" };
        var list = new Command("list", "List workspaces, or soft-deleted ones with --deleted").With(listSub, listGroup, deleted, options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var client = connection.Client;
            var items = run.Value(deleted)
                ? await client.ListDeletedWorkspacesAsync(run.Value(listSub), ct).ToListAsync(ct)
                : await client.ListWorkspacesAsync(run.Value(listSub), run.Value(listGroup), ct).ToListAsync(ct);
            await WriteWorkspacesAsync(run, items, "No workspaces.");
            return ExitCodes.Success;
        });

        var showT = new Target();
        var show = new Command("show", "Show a workspace with its companion resources").With([.. ShowOptions(showT), options.Server, options.Output]);
        show.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = showT.Of(run);
            var ws = await connection.Client.GetWorkspaceAsync(s, g, w, ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(ws);
                return ExitCodes.Success;
            }
            run.Write(Invocation.Details(("Name", ws.Name), ("ID", ws.Id), ("Location", ws.Location), ("SKU", ws.Sku.Name),
                ("Soft-delete retention", $"{ws.Properties.SoftDeleteRetentionInDays} days"), ("Purge protection", ws.Properties.EnablePurgeProtection ? "on" : "off"),
                ("Storage account", ws.Properties.StorageAccount), ("Container registry", ws.Properties.ContainerRegistry),
                ("Application Insights", ws.Properties.ApplicationInsights), ("Key vault", ws.Properties.KeyVault)));
            return ExitCodes.Success;
        });

        var createT = new Target();
        var location = new Option<string>("--location", "-l") { Description = "Its location, such as westeurope", Required = true, HelpName = "LOCATION" };
        var sku = new Option<string>("--sku") { Description = "Free or Paid", DefaultValueFactory = _ => "Free", HelpName = "SKU" };
        var retention = new Option<int?>("--retention-days") { Description = "Days a deleted workspace stays recoverable, 1 to 14 (14 by default)", HelpName = "DAYS" };
        var protect = new Option<bool>("--purge-protection") { Description = "Refuse permanent deletes before the retention ends" };
        var create = new Command("create", "Create a workspace with its storage account, container registry, Application Insights and key vault")
            .With([.. createT.All, location, sku, retention, protect, options.Server, options.Output]);
        create.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = createT.Of(run);
            var ws = await connection.Client.CreateOrUpdateWorkspaceAsync(s, g, w,
                new CreateWorkspaceRequest(run.Value(location)!, new ArmSku(run.Value(sku)!), run.Value(retention), run.Value(protect) ? true : null), ct);
            await WriteWorkspacesAsync(run, [ws], null);
            return ExitCodes.Success;
        });

        var deleteT = new Target();
        var permanently = new Option<bool>("--permanently") { Description = "Delete for good now (purge), instead of a recoverable soft delete" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation of a permanent delete" };
        var noWait = new Option<bool>("--no-wait") { Description = "Return at once after starting a permanent delete" };
        var delete = new Command("delete", "Delete a workspace: soft delete by default (recoverable), --permanently to purge")
            .With([.. deleteT.All, permanently, yes, noWait, options.Server, options.Output]);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = deleteT.Of(run);
            if (!run.Value(permanently))
            {
                await connection.Client.DeleteWorkspaceAsync(s, g, w, ct);
                await run.WriteLineAsync($"Deleted {w}: recoverable with `lethe workspace recover` until its retention ends.");
                return ExitCodes.Success;
            }
            if (!run.Value(yes) && !run.Json)
            {
                if (!terminal.IsInteractive)
                {
                    throw CliException.Usage("A permanent delete cannot be undone: confirm it with --yes.");
                }
                await run.WriteLineAsync($"Delete {w} permanently, with all its assets, jobs and data? Type the workspace's name to confirm:");
                if (!string.Equals((await terminal.In.ReadLineAsync(ct))?.Trim(), w, StringComparison.Ordinal))
                {
                    throw new CliException("Not confirmed; nothing was deleted.");
                }
            }
            var operation = await connection.Client.PurgeWorkspaceAsync(s, g, w, ct);
            if (run.Value(noWait))
            {
                await run.WriteLineAsync($"Purging {w}: follow it with `lethe operation wait {operation}`.");
                return ExitCodes.Success;
            }
            return await OperationCommands.WaitAsync(run, connection, operation, $"Purging {w}", TimeSpan.FromSeconds(1), ct);
        });

        var recoverT = new Target();
        var recover = new Command("recover", "Recover a soft-deleted workspace with all its assets and data").With([.. recoverT.All, options.Server, options.Output]);
        recover.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = recoverT.Of(run);
            await WriteWorkspacesAsync(run, [await connection.Client.RecoverWorkspaceAsync(s, g, w, ct)], null);
            return ExitCodes.Success;
        });

        return Cli.Group("workspace", "Machine learning workspaces: create, delete, recover, members and assets",
            list, show, create, delete, recover, Members(terminal, options), Assets(terminal, options), Storage(terminal, options));
    }

    /// `lethe workspace storage ls|download|delete`: the workspace's storage account, job history documents included (seed 001).
    private static Command Storage(Terminal terminal, CommonOptions options)
    {
        var listT = new Target();
        var prefix = new Argument<string?>("PREFIX") { Description = "Only blobs whose path starts with this, e.g. azureml/ or datasets/", Arity = ArgumentArity.ZeroOrOne };
        var list = new Command("ls", "List the blobs in the workspace's storage (job history documents are under azureml/)") { prefix }
            .With([.. listT.All, options.Server, options.Output]);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = listT.Of(run);
            var blobs = await connection.Client.ListStorageAsync(s, g, w, run.Value(prefix), ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(blobs);
                return ExitCodes.Success;
            }
            if (blobs.Count == 0)
            {
                await run.WriteNothingAsync("No blobs.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Path", "Size", "Modified");
            foreach (var b in blobs)
            {
                Invocation.AddRow(table, b.Path, b.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), b.LastModified.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        Argument<string> BlobPath() => new("PATH") { Description = "The blob's path, e.g. azureml/ExperimentRun/dcid.JOB-ID/history.json" };

        var downloadT = new Target();
        var downloadPath = BlobPath();
        var dest = new Option<string?>("--dest", "-d") { Description = "The file to write (default: the blob's name)", HelpName = "FILE" };
        var download = new Command("download", "Download a blob of the workspace's storage, with progress") { downloadPath }
            .With([.. downloadT.All, dest, options.Server, options.Output]);
        download.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = downloadT.Of(run);
            var blob = run.Value(downloadPath)!;
            var file = run.Value(dest) ?? blob[(blob.LastIndexOf('/') + 1)..];
            using var response = await connection.Client.DownloadFromStorageAsync(s, g, w, blob, ct);
            var written = await SaveAsync(run, response, file, 0, $"Downloading {blob}", ct);
            await WriteSavedAsync(run, file, written, null);
            return ExitCodes.Success;
        });

        var deleteT = new Target();
        var deletePath = BlobPath();
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation of a permanent delete (job files under azureml/)" };
        var delete = new Command("delete", "Delete a blob: data is soft-deleted; job files (under azureml/) are deleted for good, and a job whose history document is deleted is kept without it") { deletePath }
            .With([.. deleteT.All, yes, options.Server, options.Output]);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = deleteT.Of(run);
            var blob = run.Value(deletePath)!;
            if (blob.StartsWith("azureml/", StringComparison.Ordinal) && !run.Value(yes) && !run.Json)
            {
                if (!terminal.IsInteractive)
                {
                    throw CliException.Usage("Job files are deleted for good: confirm it with --yes.");
                }
                await run.WriteLineAsync($"Delete {blob} for good? This cannot be undone. Type 'yes' to confirm:");
                if (!string.Equals((await terminal.In.ReadLineAsync(ct))?.Trim(), "yes", StringComparison.Ordinal))
                {
                    throw new CliException("Not confirmed; nothing was deleted.");
                }
            }
            await connection.Client.DeleteFromStorageAsync(s, g, w, blob, ct);
            await run.WriteLineAsync($"Deleted {blob}.");
            return ExitCodes.Success;
        });

        return Cli.Group("storage", "The workspace's storage: list, download and delete blobs, job history documents included", list, download, delete);
    }

    private static Option[] ShowOptions(Target t) => t.All;

    private static Command Members(Terminal terminal, CommonOptions options)
    {
        var listT = new Target();
        var list = new Command("list", "List the workspace's members").With([.. listT.All, options.Server, options.Output]);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = listT.Of(run);
            var members = await connection.Client.ListWorkspaceMembersAsync(s, g, w, ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(members);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Object ID", "Email", "Role");
            foreach (var m in members)
            {
                Invocation.AddRow(table, m.PrincipalId.ToString(), m.Email, m.Role);
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        var addT = new Target();
        var email = new Option<string?>("--email") { Description = "The user's email", HelpName = "EMAIL" };
        var objectId = new Option<Guid?>("--object-id") { Description = "The user's object ID", HelpName = "ID" };
        var role = new Option<string>("--role") { Description = "Owner, Contributor or Reader", Required = true, HelpName = "ROLE" };
        var add = new Command("add", "Authorize a user on the workspace with a role").With([.. addT.All, email, objectId, role, options.Server, options.Output]);
        add.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = addT.Of(run);
            var member = await connection.Client.AddWorkspaceMemberAsync(s, g, w, new AddWorkspaceMemberRequest(run.Value(role)!, run.Value(objectId), run.Value(email)), ct);
            await (run.Json ? run.WriteJsonAsync(member) : run.WriteLineAsync($"{member.PrincipalId} is {member.Role} on {w}."));
            return ExitCodes.Success;
        });

        var removeT = new Target();
        var removeId = new Argument<Guid>("OBJECT-ID") { Description = "The member's object ID" };
        var remove = new Command("remove", "Remove a member (their access to the workspace ends)") { removeId }.With([.. removeT.All, options.Server, options.Output]);
        remove.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = removeT.Of(run);
            await connection.Client.RemoveWorkspaceMemberAsync(s, g, w, run.Value(removeId), ct);
            await run.WriteLineAsync("Removed.");
            return ExitCodes.Success;
        });
        return Cli.Group("member", "Users authorized on a workspace", list, add, remove);
    }

    private static Command Assets(Terminal terminal, CommonOptions options)
    {
        Option<string> Kind() => new("--kind", "-k")
        {
            Description = "data, models, notebooks, pipelines, computes or experiments", Required = true, HelpName = "KIND",
        };
        var listT = new Target();
        var listKind = Kind();
        var list = new Command("list", "List a workspace's assets of one kind").With([.. listT.All, listKind, options.Server, options.Output]);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = listT.Of(run);
            var assets = await connection.Client.ListAssetsAsync(s, g, w, run.Value(listKind)!, ct).ToListAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(assets);
                return ExitCodes.Success;
            }
            if (assets.Count == 0)
            {
                await run.WriteNothingAsync("No assets of this kind.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Name", "Version", "Description");
            foreach (var a in assets)
            {
                Invocation.AddRow(table, a.Name, a.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), a.Description);
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        var deleteT = new Target();
        var deleteKind = Kind();
        var name = new Argument<string>("NAME") { Description = "The asset's name" };
        var delete = new Command("delete", "Delete an asset (a data asset is unregistered: its data stays in storage)") { name }.With([.. deleteT.All, deleteKind, options.Server, options.Output]);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = deleteT.Of(run);
            await connection.Client.DeleteAssetAsync(s, g, w, run.Value(deleteKind)!, run.Value(name)!, ct);
            await run.WriteLineAsync("Deleted.");
            return ExitCodes.Success;
        });
        return Cli.Group("asset", "Data assets, models, notebooks, pipelines, computes and experiments", list, delete);
    }

    public static Command CreateJob(Terminal terminal, CommonOptions options)
    {
        var listT = new Target();
        var archived = new Option<bool>("--include-archived") { Description = "Include archived jobs" };
        var list = new Command("list", "List a workspace's jobs").With([.. listT.All, archived, options.Server, options.Output]);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = listT.Of(run);
            var jobs = await connection.Client.ListJobsAsync(s, g, w, run.Value(archived), ct).ToListAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(jobs);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Job ID", "Experiment", "Status", "Submitted", "Archived", "History document");
            foreach (var j in jobs)
            {
                Invocation.AddRow(table, j.JobId, j.ExperimentName, j.Status, j.SubmittedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture), j.Archived ? "yes" : "",
                    j.HasHistoryDocument ? "yes" : "deleted");
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        Argument<string> JobId() => new("JOB-ID") { Description = "The job's ID" };

        var archiveT = new Target();
        var archiveId = JobId();
        var archive = new Command("archive", "Archive a job: hidden from lists, its data kept") { archiveId }.With([.. archiveT.All, options.Server, options.Output]);
        archive.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = archiveT.Of(run);
            await connection.Client.ArchiveJobAsync(s, g, w, run.Value(archiveId)!, ct);
            await run.WriteLineAsync("Archived.");
            return ExitCodes.Success;
        });

        var deleteT = new Target();
        var deleteId = JobId();
        var delete = new Command("delete", "Delete a job with its history document, outputs and logs") { deleteId }.With([.. deleteT.All, options.Server, options.Output]);
        delete.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = deleteT.Of(run);
            await connection.Client.DeleteJobAsync(s, g, w, run.Value(deleteId)!, ct);
            await run.WriteLineAsync("Deleted.");
            return ExitCodes.Success;
        });

        var downloadT = new Target();
        var downloadId = JobId();
        var all = new Option<bool>("--all") { Description = "Download all outputs and logs as one zip" };
        var path = new Option<string?>("--path") { Description = "One artifact to download, e.g. outputs/model.pkl", HelpName = "PATH" };
        var dest = new Option<string?>("--dest", "-d") { Description = "The file to write (default: the artifact's name, or JOB-ID.zip)", HelpName = "FILE" };
        var download = new Command("download", "Download a job's outputs and logs (--all) or one artifact (--path), with progress") { downloadId }
            .With([.. downloadT.All, all, path, dest, options.Server, options.Output]);
        download.Handle(terminal, options, async (run, ct) =>
        {
            var (s, g, w) = downloadT.Of(run);
            var jobId = run.Value(downloadId)!;
            var one = run.Value(path);
            if (run.Value(all) == (one is not null))
            {
                throw CliException.Usage("Give --all or --path, one of them.");
            }
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var artifacts = await connection.Client.ListArtifactsAsync(s, g, w, jobId, ct);
            var total = one is null ? artifacts.Sum(a => a.Length) : artifacts.FirstOrDefault(a => a.Path == one)?.Length ?? 0;
            var file = run.Value(dest) ?? (one is null ? $"{jobId}.zip" : one[(one.LastIndexOf('/') + 1)..]);
            using var response = one is null
                ? await connection.Client.DownloadAllArtifactsAsync(s, g, w, jobId, ct)
                : await connection.Client.DownloadArtifactAsync(s, g, w, jobId, one, ct);
            var written = await SaveAsync(run, response, file, total, $"Downloading {(one is null ? jobId : one)}", ct);
            await WriteSavedAsync(run, file, written, one is null ? artifacts.Count : 1);
            return ExitCodes.Success;
        });

        return Cli.Group("job", "Jobs of a workspace: list, archive, delete, download outputs and logs", list, archive, delete, download);
    }

    public static Command CreateModel(Terminal terminal, CommonOptions options)
    {
        var listT = new Target();
        var listName = new Argument<string>("NAME") { Description = "The model's name" };
        var versions = new Command("versions", "List a model's versions") { listName }.With([.. listT.All, options.Server, options.Output]);
        versions.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = listT.Of(run);
            var list = await connection.Client.ListModelVersionsAsync(s, g, w, run.Value(listName)!, ct).ToListAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(list);
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Name", "Version", "Registered", "Description");
            foreach (var m in list)
            {
                Invocation.AddRow(table, m.Name, m.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), m.CreatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture), m.Description);
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        var downloadT = new Target();
        var name = new Argument<string>("NAME") { Description = "The model's name" };
        var version = new Option<int?>("--version") { Description = "The version (default: the latest)", HelpName = "N" };
        var dest = new Option<string?>("--dest", "-d") { Description = "The zip file to write (default: NAME-VERSION.zip)", HelpName = "FILE" };
        var download = new Command("download", "Download a model version as a zip of its files, with progress") { name }.With([.. downloadT.All, version, dest, options.Server, options.Output]);
        download.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var (s, g, w) = downloadT.Of(run);
            var model = run.Value(name)!;
            var all = await connection.Client.ListModelVersionsAsync(s, g, w, model, ct).ToListAsync(ct);
            var chosen = run.Value(version) is { } v ? all.FirstOrDefault(m => m.Version == v) ?? throw new CliException($"The model has no version {v}.") : all[^1];
            var file = run.Value(dest) ?? $"{chosen.Name}-{chosen.Version}.zip";
            using var response = await connection.Client.DownloadModelAsync(s, g, w, model, chosen.Version, ct);
            var written = await SaveAsync(run, response, file, 0, $"Downloading {chosen.Name} {chosen.Version}", ct);
            await WriteSavedAsync(run, file, written, null);
            return ExitCodes.Success;
        });
        return Cli.Group("model", "Registered models: versions and downloads", versions, download);
    }

    /// Streams the response to a file with a progress bar over <paramref name="expected"/> bytes (the
    /// artifacts' total; a zip's own size is known only at its end).
    private static async Task<long> SaveAsync(Invocation run, HttpResponseMessage response, string file, long expected, string description, CancellationToken ct)
    {
        var total = response.Content.Headers.ContentLength ?? Math.Max(expected, 1);
        var partial = file + ".partial";
        var written = await run.WithProgressAsync(description, total, async report =>
        {
            await using var source = await response.Content.ReadAsStreamAsync(ct);
            await using var target = File.Create(partial);
            var buffer = new byte[81920];
            long done = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, ct)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read), ct);
                done += read;
                report(Math.Min(done, total));
            }
            return done;
        });
        // Only a complete download takes the file's name.
        File.Move(partial, file, overwrite: true);
        return written;
    }

    private static Task WriteSavedAsync(Invocation run, string file, long bytes, int? entries)
        => run.Json
            ? run.WriteJsonAsync(new { file = Path.GetFullPath(file), bytes, entries })
            : run.WriteLineAsync($"Saved {Path.GetFullPath(file)} ({bytes:N0} bytes{(entries is { } n ? $", {n} {(n == 1 ? "artifact" : "artifacts")}" : "")}).");

    private static async Task WriteWorkspacesAsync(Invocation run, List<WorkspaceResource> items, string? none)
    {
        if (run.Json)
        {
            await (none is null && items.Count == 1 ? run.WriteJsonAsync(items[0]) : run.WriteJsonAsync(items));
            return;
        }
        if (items.Count == 0 && none is not null)
        {
            await run.WriteNothingAsync(none);
            return;
        }
        var table = Invocation.Table("Name", "Resource group", "Location", "SKU", "State", "Purge date");
        foreach (var w in items)
        {
            Invocation.AddRow(table, w.Name, w.Id.Split('/')[4], w.Location, w.Sku.Name, w.Properties.ProvisioningState,
                w.Properties.ScheduledPurgeDate?.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        }
        run.Write(table);
    }
}
