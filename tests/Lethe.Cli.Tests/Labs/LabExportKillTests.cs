using System.Diagnostics;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Cli.Tests.Labs;

/// Issue 12, item 6, on one machine (SQLite and the file-system blob store): a `lethe serve` process killed with
/// SIGKILL while its usage export writes a file leaves nothing in its TMPDIR; started again on the same data folder it
/// finishes the export, whole and once; and the blob store's sweep removes the killed writer's partial file from the
/// container's tmp/ folder. (TwoNodeTests kills exports on PostgreSQL and Azure Blob Storage.)
public sealed class LabExportKillTests
{
    private const string Operator = "operator@export-kill.test";
    private const string OperatorPassword = "Export-kill-operator-42";

    /// Exports asked before one was caught writing a file; each is a few hundred milliseconds of writing.
    private const int Tries = 5;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_export_killed_while_writing_a_file_completes_after_a_restart_and_its_work_file_is_swept()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, Ct);
        var data = Path.Combine(Path.GetTempPath(), $"lethe-export-kill-{Guid.NewGuid():N}");
        // The store's folder for puts being written, in the lab exports' container.
        var work = Path.Join(data, FileSystemBlobs.FolderName, ExportLabUsage.Container, "tmp");
        var server = await Server.StartAsync(database, data);
        try
        {
            var op = new LetheClient(server.Http);
            await op.LoginAsync(Operator, OperatorPassword, Ct);
            var subscription = Guid.NewGuid();
            await op.CreateOrUpdateSubscriptionAsync(subscription, "Export kill", Ct);
            await op.CreateOrUpdateResourceGroupAsync(subscription, "rg-labs", "westeurope", Ct);
            var lab = await op.CreateOrUpdateLabAsync(subscription, "rg-labs", "big-lab", new CreateLabRequest("westeurope"), Ct);
            await KilledExport.FillAsync(database, lab.Properties.UniqueIdentifier, KilledExport.Resources);

            Guid? killed = null;
            List<string> debris = [];
            var asked = 0;
            while (killed is null)
            {
                Assert.True(asked < Tries, $"None of {Tries} exports was caught writing a file.");
                asked++;
                var export = await op.ExportLabResourceUsageAsync(subscription, "rg-labs", "big-lab", new ExportLabResourceUsageRequest(), Ct);
                var job = Guid.Parse(export.Name);
                debris = await KillWhileWritingAsync(database, job, work, server);
                killed = debris.Count > 0 ? job : null;
            }
            var id = killed.Value;
            TestContext.Current.TestOutputHelper?.WriteLine($"export {asked} killed while writing: {debris.Count} work file(s) in the store's tmp/");
            var left = KilledExport.LeftIn(server.Temporary);
            Assert.True(left.Count == 0, $"The killed server left files in its TMPDIR: {string.Join(", ", left)}");
            await server.DisposeAsync();
            // While the server is down, nothing partial is visible: every CSV the store publishes is whole.
            var store = new FileSystemBlobStore(Path.Join(data, FileSystemBlobs.FolderName), new BlobOptions(), TimeProvider.System);
            await foreach (var published in store.ListAsync(ExportLabUsage.Container, null, Ct))
            {
                await using var csv = await store.OpenReadAsync(ExportLabUsage.Container, published.Name, Ct);
                var vmFile = published.Name.EndsWith(ExportLabUsage.VirtualMachinesFile, StringComparison.Ordinal);
                await KilledExport.AssertWholeAsync(csv, vmFile ? LabUsageRows.VirtualMachineColumns : LabUsageRows.DiskColumns, KilledExport.Resources, published.Name);
            }

            var restarted = Stopwatch.GetTimestamp();
            server = await Server.StartAsync(database, data);
            op = new LetheClient(server.Http);
            await op.LoginAsync(Operator, OperatorPassword, Ct);
            var done = await KilledExport.WaitForEndAsync(database, id, TimeSpan.FromMinutes(2));
            TestContext.Current.TestOutputHelper?.WriteLine($"the export ended {Stopwatch.GetElapsedTime(restarted).TotalMilliseconds:0} ms after the restart began");
            Assert.True(done.State == JobState.Succeeded, $"The export ended {done.State}: {done.Error}");
            Assert.Equal((2, 1, 0), (done.Attempt, done.LostLeases, done.Failures));

            // Once: one job per export asked, and the killed one's folder holds its two files, whole.
            await using (var check = database.CreateContext())
            {
                Assert.Equal(asked, await check.Jobs.CountAsync(j => j.Kind == ExportLabUsage.JobKind && j.ResourceId == done.ResourceId, Ct));
            }
            var folder = (await KilledExport.PayloadAsync(database, id)).Folder;
            var files = await op.ListLabUsageExportsAsync(subscription, "rg-labs", "big-lab", Ct);
            Assert.Equal([ExportLabUsage.DisksFile, ExportLabUsage.VirtualMachinesFile], files.Where(f => f.Folder == folder).Select(f => f.Name).Order(StringComparer.Ordinal));
            await using (var vms = await op.DownloadLabUsageExportAsync(subscription, "rg-labs", "big-lab", folder, ExportLabUsage.VirtualMachinesFile, Ct))
            {
                await KilledExport.AssertWholeAsync(vms, LabUsageRows.VirtualMachineColumns, KilledExport.Resources, "virtualmachines.csv");
            }
            await using (var disks = await op.DownloadLabUsageExportAsync(subscription, "rg-labs", "big-lab", folder, ExportLabUsage.DisksFile, Ct))
            {
                await KilledExport.AssertWholeAsync(disks, LabUsageRows.DiskColumns, KilledExport.Resources, "disks.csv");
            }

            // The sweep that ends soft delete also removes work files whose writer process is gone.
            var sweep = await KilledExport.RunSweepAsync(database, PurgeExpiredBlobs.JobKind);
            Assert.Equal(JobState.Succeeded, sweep.State);
            var remaining = Directory.Exists(work) ? Directory.EnumerateFileSystemEntries(work).Select(Path.GetFileName).ToList() : [];
            Assert.True(remaining.Count == 0, $"The store's tmp/ still holds {string.Join(", ", remaining)} after the sweep.");
            left = KilledExport.LeftIn(server.Temporary);
            Assert.True(left.Count == 0, $"The restarted server wrote files into its TMPDIR: {string.Join(", ", left)}");
        }
        finally
        {
            await server.DisposeAsync();
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    /// Waits until the export writes a file (a work file in the store's tmp/), then kills the server at once and
    /// returns the work files it left; none when the export ended before it was caught writing.
    private static async Task<List<string>> KillWhileWritingAsync(TestDatabase database, Guid job, string work, Server server)
    {
        var deadline = Stopwatch.StartNew();
        for (var i = 0; ; i++)
        {
            if (Directory.Exists(work) && Directory.EnumerateFiles(work).Any())
            {
                await server.KillAsync();
                return [.. Directory.EnumerateFiles(work).Select(f => Path.GetFileName(f))];
            }
            if (i % 50 == 0)
            {
                await using var db = database.CreateContext();
                var state = await db.Jobs.AsNoTracking().Where(j => j.Id == job).Select(j => j.State).SingleAsync(Ct);
                if (state is not (JobState.Pending or JobState.Running))
                {
                    return [];
                }
                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(1), "The export did not write within a minute.");
            }
            await Task.Delay(1, Ct);
        }
    }

    /// One `lethe serve` process on the SQLite database and a data folder, with a TMPDIR of its own.
    private sealed class Server : IAsyncDisposable
    {
        private readonly ServeProcess _server;

        private Server(ServeProcess server, string temporary)
        {
            _server = server;
            Temporary = temporary;
        }

        public HttpClient Http => _server.Http;

        public string Temporary { get; }

        public static async Task<Server> StartAsync(TestDatabase database, string data)
        {
            var temporary = Path.Combine(Path.GetTempPath(), $"lethe-tmpdir-{Guid.NewGuid():N}");
            Directory.CreateDirectory(temporary);
            var environment = new Dictionary<string, string>
            {
                ["TMPDIR"] = temporary,
                // No diagnostic IPC socket in TMPDIR: what is left there after a kill is then only what Lethe wrote.
                ["DOTNET_EnableDiagnostics"] = "0",
                ["LETHE_ADMIN_EMAIL"] = Operator,
                ["LETHE_ADMIN_PASSWORD"] = OperatorPassword,
                ["Lethe__Database__Provider"] = "Sqlite",
                // SQLite as a deployment opens it (pooled), not as the tests' contexts do.
                ["Lethe__Database__ConnectionString"] = new SqliteConnectionStringBuilder { DataSource = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource }.ConnectionString,
                ["Lethe__Database__MigrateOnStart"] = "true",
                ["Lethe__Jobs__LeaseSeconds"] = "3",
                ["Lethe__Jobs__PollIntervalMilliseconds"] = "100",
                ["Logging__LogLevel__Default"] = "Warning",
            };
            return new Server(await ServeProcess.StartAsync(data, environment, temporary + ".log", TimeSpan.FromMinutes(3), Ct), temporary);
        }

        /// SIGKILL: the process ends at once, in whatever it was doing.
        public Task KillAsync() => _server.KillAsync();

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            try
            {
                Directory.Delete(Temporary, recursive: true);
                File.Delete(Temporary + ".log");
            }
            catch (IOException)
            {
            }
        }
    }
}
