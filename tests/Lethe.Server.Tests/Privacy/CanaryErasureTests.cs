using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Privacy;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Privacy;

/// The servers of the canary tests: file-system blobs by default, Azure Blob Storage (Azurite) for the Azure case.
public sealed class CanaryAzureServers : Servers
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Lethe:Blobs:Provider"] = "Azure",
        ["Lethe:Blobs:ConnectionString"] = TestEnvironment.Azurite,
        ["Lethe:Blobs:ContainerPrefix"] = "can" + Guid.NewGuid().ToString("N")[..8],
    };
}

/// A canary person, A, uses every feature of every module through the SDK, beside a second person, B, who shares a
/// workspace and a lab with them. The executable map must export A from every location, dry-run without a change,
/// and erase A so that no source and no column or blob anywhere still holds A, while B's data stays as it was.
public sealed class CanaryErasureTests(Servers servers, CanaryAzureServers azure) : IClassFixture<Servers>, IClassFixture<CanaryAzureServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseProvider, bool> Cases => new()
    {
        { DatabaseProvider.Sqlite, false },
        { DatabaseProvider.Postgres, false },
        { DatabaseProvider.Postgres, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_canary_is_exported_from_every_location_dry_run_changes_nothing_and_erasure_leaves_no_residue(DatabaseProvider provider, bool azureBlobs)
    {
        var host = await (azureBlobs ? azure : servers).GetAsync(provider);
        var world = await Canary.CreateAsync(host, Ct);

        // Export: every location where A has data has records.
        // Found by the account's email in another case, plus a second address A typed into a VM (as a privacy officer
        // would name both).
        var keysA = await host.WithSourcesAsync(s => s.ResolveAsync(SubjectKeys.ForEmail(world.EmailA.ToUpperInvariant()).With(SubjectKeys.ForEmail(world.LabEmail)), Ct));
        Assert.Contains(world.A.ObjectId, keysA.ObjectIds);
        Assert.Contains(SubjectKeys.NormalizeEmail(world.EmailA), keysA.Emails);
        Assert.Contains(world.LabEmail, keysA.Emails);
        Assert.Contains(world.NameA, keysA.Names);
        var exportA = await host.ExportCountsAsync(keysA);
        foreach (var location in Canary.LocationsOfA)
        {
            Assert.True(exportA.GetValueOrDefault(location) > 0, $"A's export has no records at {location}.");
        }
        var exportB = await host.ExportJsonAsync(world.KeysB);
        var costs = await host.CostTotalsAsync();

        // Dry run: the same code path, nothing changes.
        var rowsBefore = await host.RowCountsAsync();
        var blobsBefore = await host.BlobHashesAsync(world.Containers);
        var context = new ErasureContext(Pseudonym.New(), DateTimeOffset.UtcNow, DryRun: true);
        var preview = await host.WithSourcesAsync(s => s.EraseAsync(keysA, context, Ct));
        Assert.Contains(preview, p => p.Result.Records > 0 && p.Result.Outcome == ErasureOutcome.Deleted);
        Assert.Contains(preview, p => p.Result.Records > 0 && p.Result.Outcome == ErasureOutcome.Pseudonymized);
        Assert.Contains(preview, p => p.Result.Records > 0 && p.Result.Outcome == ErasureOutcome.AnonymizedOn && p.Result.Date > DateTimeOffset.UtcNow.AddDays(29));
        Assert.Equal(rowsBefore, await host.RowCountsAsync());
        Assert.Equal(blobsBefore, await host.BlobHashesAsync(world.Containers));

        // Erasure, anonymizing the retained lab data at once: no source finds A, no column or blob holds A.
        var erasure = context with { DryRun = false, AnonymizeNow = true };
        await host.WithSourcesAsync(s => s.EraseAsync(keysA, erasure, Ct));
        var residue = await host.WithSourcesAsync(s => s.ScanAsync(keysA, erasure, Ct));
        Assert.All(residue, r => Assert.True(r.Residue.Records == 0 && r.Residue.Retained == 0, $"{r.Source.Location.Name} still holds A: {r.Residue}"));
        Assert.Empty(await host.SearchEverywhereAsync(keysA, world.Containers));
        if (provider == DatabaseProvider.Sqlite && !azureBlobs)
        {
            Assert.Empty(host.SearchFiles(keysA));
        }

        // B is untouched but where B's records mentioned A; cost totals per lab are the same.
        Assert.Equal(exportB, await host.ExportJsonAsync(world.KeysB));
        Assert.Equal(costs, await host.CostTotalsAsync());
        // A's shared job is B's team's result still, under the pseudonym.
        var run = await host.WithDbAsync(db => db.ExperimentRuns.AsNoTracking().SingleAsync(r => r.JobId == world.SharedJob, Ct));
        Assert.Equal(erasure.Pseudonym.ObjectId, run.SubmittedBy);
        var history = await host.HistoryDocumentAsync(world.SharedStorage, world.SharedJob);
        Assert.Equal(erasure.Pseudonym.Name, history["createdBy"]!["userName"]!.GetValue<string>());
        Assert.Equal(erasure.Pseudonym.Email, history["createdBy"]!["userEmail"]!.GetValue<string>());
        Assert.Equal(world.SharedJob, history["runId"]!.GetValue<string>());
        // A's own workspace went with them; the shared ones stay.
        Assert.False(await host.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Name == world.OwnWorkspace, Ct)));
        Assert.True(await host.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Name == world.SharedWorkspace, Ct)));

        // Idempotent: a second erasure changes nothing.
        var again = await host.WithSourcesAsync(s => s.EraseAsync(keysA, erasure, Ct));
        Assert.All(again.Where(a => a.Result.Outcome is ErasureOutcome.Deleted or ErasureOutcome.Pseudonymized), a => Assert.Equal(0, a.Result.Records));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Without_anonymize_now_lab_data_is_retained_until_the_labs_period_ends_and_says_when(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var world = await Canary.CreateAsync(host, Ct);
        var keys = await host.WithSourcesAsync(s => s.ResolveAsync(SubjectKeys.ForObjectId(world.A.ObjectId).With(SubjectKeys.ForEmail(world.LabEmail)), Ct));
        var context = new ErasureContext(Pseudonym.New(), DateTimeOffset.UtcNow);

        var results = await host.WithSourcesAsync(s => s.EraseAsync(keys, context, Ct));

        var vms = Assert.Single(results, r => r.Source.Location.Name == "LabVirtualMachines");
        Assert.Equal(ErasureOutcome.AnonymizedOn, vms.Result.Outcome);
        Assert.Equal(context.Now.AddDays(30), vms.Result.Date!.Value, TimeSpan.FromSeconds(1));
        var residue = await host.WithSourcesAsync(s => s.ScanAsync(keys, context, Ct));
        Assert.All(residue, r => Assert.Equal(0, r.Residue.Records));
        Assert.Contains(residue, r => r.Source.Location.Name == "LabVirtualMachines" && r.Residue.Retained > 0 && r.Residue.RetainedUntil is not null);
        // A's VMs are deleted as A would delete them.
        Assert.True(await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => v.OwnerObjectId == world.A.ObjectId).AllAsync(v => v.DeletedAt != null, Ct)));

        // When the period has passed, the sweep anonymizes the rest, in the stored usage exports too.
        await host.WithDbAsync(db => AnonymizeLabPersonalData.RunAsync(db, host.Factory.Services.GetRequiredService<IBlobStore>(), context.Now.AddDays(31), Ct));
        var after = await host.WithSourcesAsync(s => s.ScanAsync(keys, context, Ct));
        Assert.All(after, r => Assert.True(r.Residue.Records == 0 && r.Residue.Retained == 0, $"{r.Source.Location.Name} still holds A: {r.Residue}"));
    }
}

/// The canary's world, made through the SDK.
internal sealed record Canary(
    TestUser A, string EmailA, string NameA, TestUser B, SubjectKeys KeysB, string LabEmail,
    string OwnWorkspace, string SharedWorkspace, string SharedStorage, string SharedJob, IReadOnlyList<string> Containers)
{
    /// The locations where the canary has records once it used every feature.
    public static readonly string[] LocationsOfA =
    [
        "AspNetUsers", "RoleAssignments", "WorkspaceMembers", "ExperimentRuns", "TelemetryEvents",
        "GalleryAuthors", "GalleryEntities", "CatalogTokens", "Labs", "LabVirtualMachines", "LabDisks", "LabCosts",
        WorkspacesPrivacy.HistoryDocuments.Name, $"{ExportLabUsage.Container}/{LabsPrivacy.UsageExportSource.Prefix}",
    ];

    public static async Task<Canary> CreateAsync(LetheHost host, CancellationToken ct)
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (subscription, op) = await host.NewSubscriptionAsync(ct);
        const string group = "canary-rg";
        await op.CreateOrUpdateResourceGroupAsync(subscription, group, "northeurope", ct);
        var scope = Scenario.Scope(subscription, group);

        // A: a mixed-case email and a non-ASCII name; B: a non-ASCII, mixed-case email.
        var emailA = $"Canary.Ana.{tag}@Example.TEST";
        var nameA = $"Ana Ünal Çanary {tag}";
        var a = await RegisterAsync(host, emailA, ct);
        await a.Client.UpdateMeAsync(nameA, ct);
        var emailB = $"Zoë.Bërg.{tag}@Example.TEST";
        var b = await RegisterAsync(host, emailB, ct);
        await b.Client.UpdateMeAsync($"Zoë Bërg {tag}", ct);
        foreach (var user in new[] { a, b })
        {
            await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, "Owner", PrincipalId: user.ObjectId), ct: ct);
        }

        // Workspaces: A's own free workspace with a job; B's paid workspace shared with A, with jobs of both; a shared
        // workspace soft-deleted with A's job in it.
        var own = $"own-{tag}";
        await a.Client.CreateOrUpdateWorkspaceAsync(subscription, group, own, new CreateWorkspaceRequest("northeurope"), ct);
        await a.Client.SubmitJobAsync(subscription, group, own, $"own_job_{tag}", new SubmitJobRequest("canary"), ct);
        await a.Client.UploadArtifactAsync(subscription, group, own, $"own_job_{tag}", "outputs/model.txt", new MemoryStream("weights"u8.ToArray()), ct);
        var shared = $"shared-{tag}";
        var sharedWs = await b.Client.CreateOrUpdateWorkspaceAsync(subscription, group, shared, new CreateWorkspaceRequest("northeurope", new ArmSku("Paid")), ct);
        await b.Client.AddWorkspaceMemberAsync(subscription, group, shared, new AddWorkspaceMemberRequest("Contributor", a.ObjectId), ct);
        var sharedJob = $"shared_job_{tag}";
        await a.Client.SubmitJobAsync(subscription, group, shared, sharedJob, new SubmitJobRequest("team", "A's run", new Dictionary<string, string> { ["lr"] = "0.1" }), ct);
        await b.Client.SubmitJobAsync(subscription, group, shared, $"b_job_{tag}", new SubmitJobRequest("team"), ct);
        var gone = $"gone-{tag}";
        await b.Client.CreateOrUpdateWorkspaceAsync(subscription, group, gone, new CreateWorkspaceRequest("northeurope"), ct);
        await b.Client.AddWorkspaceMemberAsync(subscription, group, gone, new AddWorkspaceMemberRequest("Contributor", a.ObjectId), ct);
        await a.Client.SubmitJobAsync(subscription, group, gone, $"gone_job_{tag}", new SubmitJobRequest("old"), ct);
        await b.Client.DeleteWorkspaceAsync(subscription, group, gone, ct);

        // Gallery: a public and an unlisted item, a token.
        await a.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Canary public"), ct);
        await a.Client.PublishEntityAsync(new PublishEntityRequest("Notebook", "Canary unlisted", Visibility: "Unlisted"), ct);
        await a.Client.CreateCatalogTokenAsync(ct);
        await b.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "B's item"), ct);

        // Labs: the lab notifies A (typed in another case); A's VM notifies A too; A owns a disk; costs; an export.
        var labGroup = $"labs-{tag}";
        await op.CreateOrUpdateResourceGroupAsync(subscription, labGroup, "northeurope", ct);
        var labEmail = $"ana.Lab.{tag}@Example.TEST";
        await op.CreateOrUpdateLabAsync(subscription, labGroup, "CanaryLab", new CreateLabRequest("northeurope", new LabSettings(NotificationEmail: emailA.ToUpperInvariant())), ct);
        foreach (var user in new[] { a, b })
        {
            await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(subscription, labGroup), "LabUser", PrincipalId: user.ObjectId), ct: ct);
        }
        var vmA = await a.Client.CreateLabVirtualMachineAsync(subscription, labGroup, "CanaryLab", "vm-a", new LabVirtualMachineCreateProperties("Standard_B2s", new GalleryImageReferenceContract("Canonical", "ubuntu", "server", "Linux", "latest"), NotificationEmail: emailA), ct);
        var vmB = await b.Client.CreateLabVirtualMachineAsync(subscription, labGroup, "CanaryLab", "vm-b", new LabVirtualMachineCreateProperties("Standard_B2s", new GalleryImageReferenceContract("Canonical", "ubuntu", "server", "Linux", "latest")), ct);
        await a.Client.UpdateLabVirtualMachineAsync(subscription, labGroup, "CanaryLab", "vm-a", new UpdateLabVirtualMachineRequest(NotificationEmail: labEmail), ct);
        await a.Client.CreateLabDiskAsync(subscription, labGroup, "CanaryLab", "disk-a", new LabDiskCreateProperties(32), ct);
        await a.Client.AttachLabDiskAsync(subscription, labGroup, "CanaryLab", "disk-a", "vm-a", ct);
        await host.WithDbAsync(async db =>
        {
            var lab = await db.Labs.SingleAsync(l => l.Name == "CanaryLab" && l.ResourceGroup == labGroup, ct);
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            foreach (var (vm, owner) in new[] { (vmA, a.ObjectId), (vmB, b.ObjectId) })
            {
                var id = vm.Properties.UniqueIdentifier;
                for (var day = 1; day <= 3; day++)
                {
                    db.LabCosts.Add(new LabCost { Id = Guid.NewGuid(), LabId = lab.Id, ResourceUId = id, ResourceName = vm.Name, Date = today.AddDays(-day), AmountCents = 100 * day, OwnerObjectId = owner });
                }
            }
            return await db.SaveChangesAsync(ct);
        });
        var export = await op.ExportLabResourceUsageAsync(subscription, labGroup, "CanaryLab", new ExportLabResourceUsageRequest(), ct);
        await op.WaitForOperationAsync(export.Id, ct: ct);

        var storage = await host.WithDbAsync(db => db.Workspaces.Where(w => w.Name == shared || w.Name == gone || w.Name == own).Select(w => w.StorageAccount).ToListAsync(ct));
        var sharedStorage = await host.WithDbAsync(db => db.Workspaces.Where(w => w.Name == shared).Select(w => w.StorageAccount).SingleAsync(ct));
        var keysB = await host.WithSourcesAsync(s => s.ResolveAsync(SubjectKeys.ForObjectId(b.ObjectId), ct));
        _ = sharedWs;
        return new Canary(a, emailA, nameA, b, keysB, SubjectKeys.NormalizeEmail(labEmail), own, shared, sharedStorage, sharedJob, [.. storage, ExportLabUsage.Container]);
    }

    private static async Task<TestUser> RegisterAsync(LetheHost host, string email, CancellationToken ct)
    {
        var client = host.Anonymous();
        await client.RegisterAsync(email, LetheHost.Password, ct);
        await client.LoginAsync(email, LetheHost.Password, ct);
        var me = await client.GetMeAsync(ct);
        return new TestUser(client, me.ObjectId, email);
    }
}

/// What the canary tests read of a server: its sources, row counts, blob hashes, and searches for a person.
internal static class CanaryProbes
{
    public static async Task<T> WithSourcesAsync<T>(this LetheHost host, Func<PersonalDataSources, Task<T>> work)
    {
        await using var scope = host.Factory.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PersonalDataSources>());
    }

    public static Task<Dictionary<string, int>> ExportCountsAsync(this LetheHost host, SubjectKeys keys) => host.WithSourcesAsync(async s =>
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var (source, _) in s.ExportAsync(keys, TestContext.Current.CancellationToken))
        {
            counts[source.Location.Name] = counts.GetValueOrDefault(source.Location.Name) + 1;
        }
        return counts;
    });

    public static Task<string> ExportJsonAsync(this LetheHost host, SubjectKeys keys) => host.WithSourcesAsync(async s =>
    {
        var text = new StringBuilder();
        await foreach (var (source, record) in s.ExportAsync(keys, TestContext.Current.CancellationToken))
        {
            text.Append(source.Location.Name).Append(' ').Append(record.ToJsonString()).Append('\n');
        }
        return text.ToString();
    });

    public static Task<Dictionary<Guid, long>> CostTotalsAsync(this LetheHost host)
        => host.WithDbAsync(db => db.LabCosts.GroupBy(c => c.LabId).Select(g => new { g.Key, Total = g.Sum(c => c.AmountCents) }).ToDictionaryAsync(x => x.Key, x => x.Total));

    public static Task<Dictionary<string, long>> RowCountsAsync(this LetheHost host) => host.WithDbAsync(async db =>
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in db.Model.GetEntityTypes().Select(e => e.GetTableName()).OfType<string>().Distinct())
        {
            counts[table] = await Scalar(db, $"SELECT COUNT(*) FROM \"{table}\"");
        }
        return counts;
    });

    public static async Task<Dictionary<string, string>> BlobHashesAsync(this LetheHost host, IReadOnlyList<string> containers)
    {
        var blobs = host.Factory.Services.GetRequiredService<IBlobStore>();
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var container in containers)
        {
            await foreach (var item in blobs.ListAsync(container, null, TestContext.Current.CancellationToken))
            {
                await using var stream = await blobs.OpenReadAsync(container, item.Name, TestContext.Current.CancellationToken);
                hashes[container + "/" + item.Name] = Convert.ToHexString(await SHA256.HashDataAsync(stream, TestContext.Current.CancellationToken));
            }
            await foreach (var item in blobs.ListDeletedAsync(container, null, TestContext.Current.CancellationToken))
            {
                hashes[container + "/" + item.Name + " (deleted)"] = item.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return hashes;
    }

    public static async Task<JsonNode> HistoryDocumentAsync(this LetheHost host, string container, string jobId)
    {
        var blobs = host.Factory.Services.GetRequiredService<IBlobStore>();
        await using var stream = await blobs.OpenReadAsync(container, JobBlobs.HistoryDocument(jobId), TestContext.Current.CancellationToken);
        return (await JsonNode.ParseAsync(stream, cancellationToken: TestContext.Current.CancellationToken))!;
    }

    /// A model-wide search: every string and GUID column of every table, and every blob (live and soft-deleted
    /// content alike, through undelete-free reads of live blobs and the tombstones' listing), for any of the person's
    /// identifiers. It finds data that was never declared.
    public static async Task<List<string>> SearchEverywhereAsync(this LetheHost host, SubjectKeys keys, IReadOnlyList<string> containers)
    {
        var found = new List<string>();
        var needles = keys.Needles().ToList();
        await host.WithDbAsync(async db =>
        {
            var postgres = db.Database.ProviderName != LetheDb.SqliteProvider;
            foreach (var entity in db.Model.GetEntityTypes())
            {
                var table = entity.GetTableName();
                if (table is null)
                {
                    continue;
                }
                foreach (var property in entity.GetProperties())
                {
                    var type = Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType;
                    var column = property.GetColumnName();
                    if (type == typeof(Guid))
                    {
                        foreach (var id in keys.ObjectIds)
                        {
                            var literal = postgres ? $"'{id:D}'::uuid" : $"'{id.ToString("D").ToUpperInvariant()}'";
                            var where = postgres ? $"\"{column}\" = {literal}" : $"upper(\"{column}\") = {literal}";
                            if (await Scalar(db, $"SELECT COUNT(*) FROM \"{table}\" WHERE {where}") > 0)
                            {
                                found.Add($"{table}.{column}");
                            }
                        }
                    }
                    else if (type == typeof(string) || type.IsArray)
                    {
                        foreach (var needle in needles)
                        {
                            var text = postgres ? $"lower(\"{column}\"::text)" : $"lower(\"{column}\")";
                            var pattern = needle.ToLowerInvariant().Replace("'", "''", StringComparison.Ordinal);
                            if (await Scalar(db, $"SELECT COUNT(*) FROM \"{table}\" WHERE {text} LIKE '%{pattern}%'") > 0)
                            {
                                found.Add($"{table}.{column}");
                            }
                        }
                    }
                }
            }
            return 0;
        });
        var blobs = host.Factory.Services.GetRequiredService<IBlobStore>();
        foreach (var container in containers)
        {
            await foreach (var item in blobs.ListAsync(container, null, TestContext.Current.CancellationToken))
            {
                await using var stream = await blobs.OpenReadAsync(container, item.Name, TestContext.Current.CancellationToken);
                using var reader = new StreamReader(stream);
                var content = (await reader.ReadToEndAsync(TestContext.Current.CancellationToken)).ToLowerInvariant();
                found.AddRange(needles.Where(n => content.Contains(n.ToLowerInvariant(), StringComparison.Ordinal)).Select(_ => $"{container}/{item.Name}"));
            }
        }
        return found;
    }

    /// The raw files: the SQLite database (after its WAL checkpoint) and the blob folder, byte for byte.
    public static List<string> SearchFiles(this LetheHost host, SubjectKeys keys)
    {
        var found = new List<string>();
        var needles = keys.Needles().SelectMany(n => new[] { n, n.ToUpperInvariant() }).Distinct().Select(Encoding.UTF8.GetBytes).ToList();
        foreach (var file in Directory.EnumerateFiles(host.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            if (needles.Exists(n => bytes.AsSpan().IndexOf(n) >= 0))
            {
                found.Add(Path.GetRelativePath(host.DataDirectory, file));
            }
        }
        return found;
    }

    private static async Task<long> Scalar(LetheDb db, string sql)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync();
        }
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
