using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using Azure.Storage.Blobs;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Resources;
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
        var times = new List<TimeSpan>();
        // The next victim starts while the survivor finishes the last one's job.
        var starting = Node.StartAsync(db, prefix, pollMilliseconds: 100);
        try
        {
            for (var round = 0; times.Count < Takeovers; round++)
            {
                Assert.True(round < Takeovers * 2, $"Only {times.Count} of {round} rounds had the job claimed by the node that was then killed.");
                var group = $"rg-kill-{round}";
                await op.CreateOrUpdateResourceGroupAsync(subscription, group, "westeurope", Ct);
                foreach (var workspace in new[] { "ws-one", "ws-two" })
                {
                    await op.CreateOrUpdateWorkspaceAsync(subscription, group, workspace, new CreateWorkspaceRequest("westeurope"), Ct);
                    for (var i = 0; i < 3; i++)
                    {
                        await op.UploadToStorageAsync(subscription, group, workspace, $"data/{i}.bin", new MemoryStream(new byte[1024]), Ct);
                    }
                }
                var containers = await ContainersAsync(db, subscription, group);

                var node = await starting;
                Guid job;
                TimeSpan? taken;
                try
                {
                    using var http = node.Http();
                    using var delete = await new LetheClient(http) { AccessToken = login.AccessToken }
                        .SendRawAsync(HttpMethod.Delete, $"subscriptions/{subscription:D}/resourceGroups/{group}", null, Ct);
                    job = Guid.Parse(delete.Headers.GetValues("Azure-AsyncOperation").Single().Split('/')[^1]);
                    taken = await KillWhenClaimedAsync(db, job, node);
                }
                finally
                {
                    await node.DisposeAsync();
                }
                var started = Stopwatch.GetTimestamp();
                starting = Node.StartAsync(db, prefix, pollMilliseconds: 100);

                var done = await WaitForEndAsync(db, job);
                var elapsed = Stopwatch.GetElapsedTime(started);
                Assert.Equal(JobState.Succeeded, done.State);
                Assert.Equal(0, done.Failures);
                await using (var check = db.CreateContext())
                {
                    Assert.False(await check.ResourceGroups.AnyAsync(g => g.SubscriptionId == subscription && g.NameKey == group, Ct));
                    Assert.False(await check.Workspaces.AnyAsync(w => w.SubscriptionId == subscription && w.ResourceGroupKey == group, Ct));
                    var resource = ResourceId.ForResourceGroup(subscription, group).Value;
                    Assert.Equal(1, await check.Jobs.CountAsync(j => j.ResourceId == resource, Ct));
                }
                Assert.Equal(0, await BlobCountAsync(prefix, containers));
                if (taken is null)
                {
                    TestContext.Current.TestOutputHelper?.WriteLine($"round {round}: the job ran on the surviving node; not a takeover");
                    continue;
                }
                // Taken over once, by a live node, from the checkpoint the killed one left.
                Assert.Equal((2, 1), (done.Attempt, done.LostLeases));
                times.Add(elapsed);
                TestContext.Current.TestOutputHelper?.WriteLine($"round {round}: killed {taken.Value.TotalMilliseconds:0} ms after the claim; finished by a live node {elapsed.TotalMilliseconds:0} ms after the kill");
                Assert.True(elapsed < TimeSpan.FromSeconds(LeaseSeconds + 10), $"The other node finished {elapsed.TotalSeconds:0.0} s after the kill; the lease is {LeaseSeconds} s.");
            }
        }
        finally
        {
            await (await starting).DisposeAsync();
        }
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"kill to completion over {times.Count} takeovers (lease {LeaseSeconds} s): min {times.Min().TotalMilliseconds:0} ms, max {times.Max().TotalMilliseconds:0} ms, mean {times.Average(t => t.TotalMilliseconds):0} ms");
    }

    /// Polls the job until the given node holds it, then kills that node at once (SIGKILL). Returns how
    /// long after the claim the kill came, or null when the job was claimed by another node.
    private static async Task<TimeSpan?> KillWhenClaimedAsync(TestDatabase db, Guid id, Node node)
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
                node.Kill();
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

    private static async Task<Job> WaitForEndAsync(TestDatabase db, Guid id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var context = db.CreateContext();
            var job = await context.Jobs.AsNoTracking().SingleAsync(j => j.Id == id, Ct);
            if (job.State is JobState.Succeeded or JobState.Failed or JobState.Cancelled)
            {
                return job;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Job {id} did not end within a minute: {job.State}, attempt {job.Attempt}, {job.Error}");
            await Task.Delay(20, Ct);
        }
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

    /// One `lethe serve` process with its own data folder and port.
    private sealed class Node : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _data;

        private Node(Process process, string data, Uri url)
        {
            _process = process;
            _data = data;
            Url = url;
        }

        public Uri Url { get; }

        public int ProcessId => _process.Id;

        public HttpClient Http() => new() { BaseAddress = Url };

        public static async Task<Node> StartAsync(TestDatabase db, string containerPrefix, int pollMilliseconds)
        {
            var data = Path.Combine(Path.GetTempPath(), $"lethe-node-{Guid.NewGuid():N}");
            var url = new Uri($"http://127.0.0.1:{FreePort()}/");
            var info = new ProcessStartInfo(Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "serve", "--urls", url.ToString().TrimEnd('/'), "--data", data })
            {
                info.ArgumentList.Add(arg);
            }
            info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
            // The first node makes the operator account; the others find it.
            info.Environment["LETHE_ADMIN_EMAIL"] = Operator;
            info.Environment["LETHE_ADMIN_PASSWORD"] = OperatorPassword;
            info.Environment["Lethe__Database__Provider"] = "Postgres";
            info.Environment["Lethe__Database__ConnectionString"] = db.ConnectionString;
            info.Environment["Lethe__Database__MigrateOnStart"] = "true";
            info.Environment["Lethe__Blobs__Provider"] = "Azure";
            info.Environment["Lethe__Blobs__ConnectionString"] = TestEnvironment.Azurite;
            info.Environment["Lethe__Blobs__ContainerPrefix"] = containerPrefix;
            info.Environment["Lethe__Jobs__LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["Lethe__Jobs__PollIntervalMilliseconds"] = pollMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            var process = Process.Start(info) ?? throw new InvalidOperationException("lethe serve did not start.");
            // Drained, so that a full pipe never blocks the server.
            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var node = new Node(process, data, url);
            using var http = node.Http();
            // Generous: on a busy two-core machine a start can take long.
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (true)
            {
                try
                {
                    using var live = await http.GetAsync(new Uri("health/live", UriKind.Relative), Ct);
                    if (live.IsSuccessStatusCode)
                    {
                        return node;
                    }
                }
                catch (HttpRequestException)
                {
                }
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    var reason = process.HasExited ? await errors : "no answer within 3 minutes";
                    await node.DisposeAsync();
                    Assert.Fail($"lethe serve did not start: {reason}");
                }
                await Task.Delay(100, Ct);
            }
        }

        /// SIGKILL: the process ends at once, without handing its jobs back.
        public void Kill() => _process.Kill();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
            await _process.WaitForExitAsync(CancellationToken.None);
            _process.Dispose();
            try
            {
                Directory.Delete(_data, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        private static string Executable
        {
            get
            {
                var directory = typeof(TwoNodeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LetheCliDirectory").Value!;
                return Path.Combine(directory, OperatingSystem.IsWindows() ? "lethe.exe" : "lethe");
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
