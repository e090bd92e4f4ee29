using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lethe.Blobs;
using Lethe.Cli.Tests.Labs;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Cli.Tests;

/// Two `lethe serve` processes on one PostgreSQL database and one Azurite account, as a multi-node
/// deployment runs them (README: Several nodes): what one node issued works on the other, and a long
/// job whose node is killed (SIGKILL, no chance to hand it back) is finished by a live node, once,
/// within about a lease of the kill.
public sealed class TwoNodeTests
{
    private const int LeaseSeconds = 3;
    private const int Takeovers = 10;
    private const string Operator = "operator@two-nodes.test";
    private const string OperatorPassword = "Two-nodes-operator-42";

    /// The long jobs of issue 12 whose node is killed, in turn.
    private enum LongJob
    {
        ResourceGroupDelete,
        WorkspacePurge,
        UsageExport,
    }

    private static readonly LongJob[] Rotation = [LongJob.ResourceGroupDelete, LongJob.WorkspacePurge, LongJob.UsageExport];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tokens_cookies_and_the_jobs_of_a_killed_node_carry_over_to_the_other_node()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, Ct);
        var prefix = $"k{Guid.NewGuid():N}"[..12] + "-";
        // The survivor polls slowly, so that work asked of the other node is claimed there first.
        await using var survivor = await Node.StartAsync(db, prefix, pollMilliseconds: 1000);
        using var survivorHttp = survivor.Http();
        var login = await new LetheClient(survivorHttp).LoginAsync(Operator, OperatorPassword, Ct);

        var victim = await Node.StartAsync(db, prefix, pollMilliseconds: 100);
        try
        {
            // A bearer token of one node on the other, and the portal cookie of the other on the one.
            using var victimHttp = victim.Http();
            Assert.Equal(Operator, (await new LetheClient(victimHttp) { AccessToken = login.AccessToken }.GetMeAsync(Ct)).Email);
            using var cookieLogin = await victimHttp.PostAsJsonAsync("identity/login?useCookies=true", new { email = Operator, password = OperatorPassword }, Ct);
            cookieLogin.EnsureSuccessStatusCode();
            var cookie = cookieLogin.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("lethe=", StringComparison.Ordinal)).Split(';')[0];
            using var me = new HttpRequestMessage(HttpMethod.Get, "me");
            me.Headers.Add("Cookie", cookie);
            using var answer = await survivorHttp.SendAsync(me, Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        finally
        {
            await victim.DisposeAsync();
        }

        var op = new LetheClient(survivorHttp) { AccessToken = login.AccessToken };
        var subscription = Guid.NewGuid();
        await op.CreateOrUpdateSubscriptionAsync(subscription, "Two nodes", Ct);
        // The lab whose usage export is killed: big enough that the kill comes while a file is being uploaded.
        await op.CreateOrUpdateResourceGroupAsync(subscription, "rg-labs", "westeurope", Ct);
        var lab = await op.CreateOrUpdateLabAsync(subscription, "rg-labs", "big-lab", new CreateLabRequest("westeurope"), Ct);
        await KilledExport.FillAsync(db, lab.Properties.UniqueIdentifier, KilledExport.Resources);
        var exports = new BlobServiceClient(TestEnvironment.Azurite).GetBlobContainerClient(prefix + ExportLabUsage.Container);
        var exportsAsked = 0;

        var times = new List<TimeSpan>();
        var byKind = Rotation.ToDictionary(k => k, _ => 0);
        // The next victim starts while the survivor finishes the last one's job.
        var starting = Node.StartAsync(db, prefix, pollMilliseconds: 100);
        try
        {
            for (var round = 0; times.Count < Takeovers; round++)
            {
                Assert.True(round < Takeovers * 2, $"Only {times.Count} of {round} rounds had the job claimed by the node that was then killed.");
                // The kinds of long job take turns; a round that was not a takeover is done again with the same kind.
                var kind = Rotation[times.Count % Rotation.Length];
                var group = $"rg-kill-{round}";
                List<string> containers = [];
                string path;
                HttpMethod method;
                if (kind == LongJob.UsageExport)
                {
                    path = $"{lab.Id.TrimStart('/')}/exportLabResourceUsage";
                    method = HttpMethod.Post;
                    exportsAsked++;
                }
                else
                {
                    await op.CreateOrUpdateResourceGroupAsync(subscription, group, "westeurope", Ct);
                    foreach (var workspace in kind == LongJob.ResourceGroupDelete ? new[] { "ws-one", "ws-two" } : ["ws-purge"])
                    {
                        await op.CreateOrUpdateWorkspaceAsync(subscription, group, workspace, new CreateWorkspaceRequest("westeurope"), Ct);
                        for (var i = 0; i < 3; i++)
                        {
                            await op.UploadToStorageAsync(subscription, group, workspace, $"data/{i}.bin", new MemoryStream(new byte[1024]), Ct);
                        }
                    }
                    containers = await ContainersAsync(db, subscription, group);
                    path = kind == LongJob.ResourceGroupDelete
                        ? $"subscriptions/{subscription:D}/resourceGroups/{group}"
                        : LetheClient.WorkspacePath(subscription, group, "ws-purge") + "?forceToPurge=true";
                    method = HttpMethod.Delete;
                }

                var node = await starting;
                try
                {
                    Guid job;
                    TimeSpan? taken;
                    using (var http = node.Http())
                    {
                        using var accepted = await new LetheClient(http) { AccessToken = login.AccessToken }.SendRawAsync(method, path,
                            kind == LongJob.UsageExport ? new ExportLabResourceUsageRequest() : null, Ct);
                        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{kind} answered {accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync(Ct)}");
                        job = Guid.Parse(accepted.Headers.GetValues("Azure-AsyncOperation").Single().Split('/')[^1]);
                        // An export is killed once the node has staged a part of a file (uncommitted blocks), not before it began.
                        taken = await KillWhenClaimedAsync(db, job, node, kind == LongJob.UsageExport ? () => StagedAsync(db, job, exports) : null);
                    }
                    var started = Stopwatch.GetTimestamp();
                    starting = Node.StartAsync(db, prefix, pollMilliseconds: 100);

                    var done = await KilledExport.WaitForEndAsync(db, job, TimeSpan.FromSeconds(60));
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    Assert.True(done.State == JobState.Succeeded, $"{kind} ended {done.State}: {done.Error}");
                    Assert.Equal(0, done.Failures);
                    await using (var check = db.CreateContext())
                    {
                        // Exactly once: one job for the resource and kind (one per export asked, for the lab).
                        Assert.Equal(kind == LongJob.UsageExport ? exportsAsked : 1, await check.Jobs.CountAsync(j => j.ResourceId == done.ResourceId && j.Kind == done.Kind, Ct));
                        if (kind == LongJob.ResourceGroupDelete)
                        {
                            Assert.False(await check.ResourceGroups.AnyAsync(g => g.SubscriptionId == subscription && g.NameKey == group, Ct));
                        }
                        Assert.False(await check.Workspaces.AnyAsync(w => w.SubscriptionId == subscription && w.ResourceGroupKey == group, Ct));
                    }
                    Assert.Equal(0, await BlobCountAsync(prefix, containers));
                    if (kind == LongJob.UsageExport)
                    {
                        await AssertExportWholeAsync(db, job, exports, lab, op);
                    }
                    // The killed node's own temporary folder: nothing left in it, whatever it was doing.
                    var left = KilledExport.LeftIn(node.Temporary);
                    Assert.True(left.Count == 0, $"The killed node left files in its TMPDIR: {string.Join(", ", left)}");
                    if (taken is null)
                    {
                        TestContext.Current.TestOutputHelper?.WriteLine($"round {round} ({kind}): the job was not running on the node when it was killed; not a takeover");
                        continue;
                    }
                    // Taken over once, by a live node, from the checkpoint the killed one left.
                    Assert.Equal((2, 1), (done.Attempt, done.LostLeases));
                    times.Add(elapsed);
                    byKind[kind]++;
                    TestContext.Current.TestOutputHelper?.WriteLine($"round {round} ({kind}): killed {taken.Value.TotalMilliseconds:0} ms after the claim; finished by a live node {elapsed.TotalMilliseconds:0} ms after the kill");
                    Assert.True(elapsed < TimeSpan.FromSeconds(LeaseSeconds + 10), $"The other node finished {elapsed.TotalSeconds:0.0} s after the kill; the lease is {LeaseSeconds} s.");
                }
                finally
                {
                    await node.DisposeAsync();
                }
            }
        }
        finally
        {
            await (await starting).DisposeAsync();
        }
        Assert.All(Rotation, k => Assert.True(byKind[k] >= Takeovers / Rotation.Length, $"Only {byKind[k]} takeovers of a {k}."));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"kill to completion over {times.Count} takeovers ({string.Join(", ", byKind.Select(k => $"{k.Value} {k.Key}"))}; lease {LeaseSeconds} s): min {times.Min().TotalMilliseconds:0} ms, max {times.Max().TotalMilliseconds:0} ms, mean {times.Average(t => t.TotalMilliseconds):0} ms");
    }

    /// True once the export has staged blocks of a file it has not committed yet: it is in the middle of an upload.
    private static async Task<bool> StagedAsync(TestDatabase db, Guid job, BlobContainerClient exports)
    {
        var folder = (await KilledExport.PayloadAsync(db, job)).Folder;
        var committed = await NamesAsync(exports, folder, BlobStates.None);
        return (await NamesAsync(exports, folder, BlobStates.Uncommitted)).Except(committed).Any();
    }

    /// The export the other node finished: both files, whole, once; no uncommitted block and nothing under tmp/ left
    /// in the container, before and after the blob store's sweep.
    private static async Task AssertExportWholeAsync(TestDatabase db, Guid job, BlobContainerClient exports, LabResource lab, LetheClient op)
    {
        var folder = (await KilledExport.PayloadAsync(db, job)).Folder;
        Assert.Equal([ExportLabUsage.DisksFile, ExportLabUsage.VirtualMachinesFile], (await NamesAsync(exports, folder, BlobStates.None)).Select(n => n[folder.Length..]));
        var subscription = Guid.Parse(lab.Id.Split('/')[2]);
        await using (var vms = await op.DownloadLabUsageExportAsync(subscription, "rg-labs", lab.Name, folder, ExportLabUsage.VirtualMachinesFile, Ct))
        {
            await KilledExport.AssertWholeAsync(vms, LabUsageRows.VirtualMachineColumns, KilledExport.Resources, "virtualmachines.csv");
        }
        await using (var disks = await op.DownloadLabUsageExportAsync(subscription, "rg-labs", lab.Name, folder, ExportLabUsage.DisksFile, Ct))
        {
            await KilledExport.AssertWholeAsync(disks, LabUsageRows.DiskColumns, KilledExport.Resources, "disks.csv");
        }
        await AssertNoDebrisAsync(exports);
        var sweep = await KilledExport.RunSweepAsync(db, PurgeExpiredBlobs.JobKind);
        Assert.Equal(JobState.Succeeded, sweep.State);
        await AssertNoDebrisAsync(exports);
    }

    private static async Task AssertNoDebrisAsync(BlobContainerClient exports)
    {
        Assert.Empty(await NamesAsync(exports, "tmp/", BlobStates.All));
        var committed = await NamesAsync(exports, null, BlobStates.None);
        Assert.Equal(committed, await NamesAsync(exports, null, BlobStates.Uncommitted));
        foreach (var name in committed)
        {
            var blocks = (await exports.GetBlockBlobClient(name).GetBlockListAsync(BlockListTypes.Uncommitted, cancellationToken: Ct)).Value;
            Assert.True(!blocks.UncommittedBlocks.Any(), $"{name} keeps {blocks.UncommittedBlocks.Count()} uncommitted blocks.");
        }
    }

    private static async Task<List<string>> NamesAsync(BlobContainerClient container, string? prefix, BlobStates states)
    {
        var names = new List<string>();
        if (!await container.ExistsAsync(Ct))
        {
            return names;
        }
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, states, prefix, Ct))
        {
            names.Add(blob.Name);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// Polls the job until the given node holds it (and, with <paramref name="inside"/>, until that says the work is
    /// under way), then kills that node at once (SIGKILL). Returns how long after the claim the kill came, or null when
    /// the job was claimed by another node or ended first.
    private static async Task<TimeSpan?> KillWhenClaimedAsync(TestDatabase db, Guid id, Node node, Func<Task<bool>>? inside = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var marker = $"/{node.ProcessId}/";
        while (DateTime.UtcNow < deadline)
        {
            await using var context = db.CreateContext();
            var job = await context.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, Ct);
            if (job.State == JobState.Running && job.LeaseOwner is { } owner)
            {
                if (!owner.Contains(marker, StringComparison.Ordinal))
                {
                    return null;
                }
                if (inside is not null && !await inside())
                {
                    continue;
                }
                await node.KillAsync();
                return DateTimeOffset.UtcNow - job.StartedAt!.Value;
            }
            if (job.State != JobState.Pending)
            {
                return null;
            }
            await Task.Delay(5, Ct);
        }
        throw new TimeoutException("The job was not claimed within 30 s.");
    }

    private static async Task<List<string>> ContainersAsync(TestDatabase db, Guid subscription, string group)
    {
        await using var context = db.CreateContext();
        return await context.Workspaces.Where(w => w.SubscriptionId == subscription && w.ResourceGroupKey == group).Select(w => w.StorageAccount).ToListAsync(Ct);
    }

    /// Blobs left in the workspaces' containers, tombstones included: whatever the store keeps there.
    private static async Task<int> BlobCountAsync(string prefix, List<string> containers)
    {
        var service = new BlobServiceClient(TestEnvironment.Azurite);
        var count = 0;
        foreach (var name in containers)
        {
            var container = service.GetBlobContainerClient(prefix + name);
            if (!await container.ExistsAsync(Ct))
            {
                continue;
            }
            await foreach (var _ in container.GetBlobsAsync(cancellationToken: Ct))
            {
                count++;
            }
        }
        return count;
    }

    /// One `lethe serve` process with its own data folder, port and TMPDIR, on the shared PostgreSQL and Azurite.
    private sealed class Node : IAsyncDisposable
    {
        private readonly ServeProcess _server;
        private readonly string _data;

        private Node(ServeProcess server, string data)
        {
            _server = server;
            _data = data;
        }

        /// The process's TMPDIR: a folder of its own, empty at its start.
        public string Temporary => _data + "-tmp";

        public int ProcessId => _server.ProcessId;

        public HttpClient Http() => new() { BaseAddress = _server.Url };

        public static async Task<Node> StartAsync(TestDatabase db, string containerPrefix, int pollMilliseconds)
        {
            var data = Path.Combine(Path.GetTempPath(), $"lethe-node-{Guid.NewGuid():N}");
            Directory.CreateDirectory(data + "-tmp");
            var environment = new Dictionary<string, string>
            {
                ["TMPDIR"] = data + "-tmp",
                // No diagnostic IPC socket in TMPDIR: what is left there after a kill is then only what Lethe wrote.
                ["DOTNET_EnableDiagnostics"] = "0",
                // The first node makes the operator account; the others find it.
                ["LETHE_ADMIN_EMAIL"] = Operator,
                ["LETHE_ADMIN_PASSWORD"] = OperatorPassword,
                ["Lethe__Database__Provider"] = "Postgres",
                ["Lethe__Database__ConnectionString"] = db.ConnectionString,
                ["Lethe__Database__MigrateOnStart"] = "true",
                ["Lethe__Blobs__Provider"] = "Azure",
                ["Lethe__Blobs__ConnectionString"] = TestEnvironment.Azurite,
                ["Lethe__Blobs__ContainerPrefix"] = containerPrefix,
                ["Lethe__Jobs__LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Lethe__Jobs__PollIntervalMilliseconds"] = pollMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Logging__LogLevel__Default"] = "Warning",
            };
            // Generous: on a busy two-core machine a start can take long.
            return new Node(await ServeProcess.StartAsync(data, environment, data + ".log", TimeSpan.FromMinutes(3), Ct), data);
        }

        /// SIGKILL: the process ends at once, without handing its jobs back.
        public Task KillAsync() => _server.KillAsync();

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            foreach (var folder in new[] { _data, Temporary })
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                    // A leftover temp folder is harmless.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            File.Delete(_data + ".log");
        }
    }
}
