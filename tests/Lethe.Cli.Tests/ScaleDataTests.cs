using System.Net;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Demo;
using Lethe.Gallery;
using Lethe.Identity;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Server;
using Lethe.Storage.Postgres;
using Lethe.Testing;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Cli.Tests;

/// The scale data set: the extension point (a module adds its rows per group and per user), and every module's part.
public sealed class ScaleDataTests
{
    private const int Users = 300;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_modules_part_writes_its_rows_with_the_users_in_bulk(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider, TestContext.Current.CancellationToken);
        // Jobs stand in for a module's entities: a per-group job and one per Contributor role.
        var part = new ScalePart("jobs",
            PerGroup: (group, random) => [Job("group-sweep", group.ResourceId.Value, null, group.CreatedAt.AddMinutes(random.Next(60)))],
            PerUser: (user, random) => user.Roles.Where(r => r.Role == Resources.Role.Contributor)
                .Select(r => (object)Job("user-export", r.Group.ResourceId.Value, user.ObjectId, user.CreatedAt.AddSeconds(random.Next(3600)))));
        var reports = new List<ScaleProgress>();
        await using var db = database.CreateContext();

        var result = await ScaleData.RunAsync(Target(db, provider, null), new ScaleOptions { Users = 120, BatchSize = 50 }, [part], new InlineProgress<ScaleProgress>(reports.Add), TestContext.Current.CancellationToken);

        var ct = TestContext.Current.CancellationToken;
        await using var check = database.CreateContext();
        var contributorRoles = await check.RoleAssignments.CountAsync(a => a.Role == Resources.Role.Contributor, ct);
        Assert.Equal(ScaleData.GroupsPerSubscription, await check.Jobs.CountAsync(j => j.Kind == "group-sweep", ct));
        Assert.Equal(contributorRoles, await check.Jobs.CountAsync(j => j.Kind == "user-export", ct));
        Assert.Equal(ScaleData.GroupsPerSubscription + contributorRoles, result.RowsByTable["Jobs"]);
        var job = await check.Jobs.AsNoTracking().FirstAsync(j => j.Kind == "user-export", ct);
        Assert.Equal(JobState.Pending, job.State);
        Assert.True(await check.Users.AnyAsync(u => u.Id == job.RequestedBy, ct));
        // One report before the first batch and one after each of the three batches.
        Assert.Equal([0, 50, 100, 120], reports.Select(r => r.UsersDone));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Scale_data_fills_workspaces_gallery_and_labs(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(provider, ct);
        using var folder = new TempFolder();
        var blobs = folder.BlobStore();
        await using var db = database.CreateContext();

        var result = await ScaleData.RunAsync(Target(db, provider, blobs), new ScaleOptions { Users = Users, BatchSize = 100, HistoryDocuments = 0.25 }, null, ct);

        await using var check = database.CreateContext();
        // Workspaces: two in each of the lower ten groups; members with their role assignment at the workspace's scope.
        Assert.Equal(10 * WorkspacesScale.WorkspacesPerGroup, await check.Workspaces.CountAsync(ct));
        var members = await check.WorkspaceMembers.AsNoTracking().ToListAsync(ct);
        Assert.NotEmpty(members);
        var assignmentIds = members.Select(m => m.RoleAssignmentId).ToList();
        var assignments = await check.RoleAssignments.AsNoTracking().Where(a => assignmentIds.Contains(a.Id)).ToListAsync(ct);
        Assert.Equal(members.Count, assignments.Count);
        var workspaces = await check.Workspaces.AsNoTracking().ToDictionaryAsync(w => w.Id, ct);
        Assert.All(members, m =>
        {
            var a = assignments.Single(x => x.Id == m.RoleAssignmentId);
            Assert.Equal((m.PrincipalId, m.Role, workspaces[m.WorkspaceId].ResourceId.Key), (a.PrincipalId, a.Role, a.ScopeKey));
        });
        // Runs are submitted by scale users who are Owner or Contributor members of the run's workspace.
        var runs = await check.ExperimentRuns.AsNoTracking().ToListAsync(ct);
        Assert.NotEmpty(runs);
        Assert.All(runs, r => Assert.Contains(members, m => m.WorkspaceId == r.WorkspaceId && m.PrincipalId == r.SubmittedBy && m.Role != Resources.Role.Reader));
        // A share of the runs has its history document, naming the submitting user.
        var documented = new List<ExperimentRun>();
        foreach (var run in runs)
        {
            var document = await JobHistoryDocument.ReadAsync(blobs, workspaces[run.WorkspaceId].StorageAccount, run.JobId, ct);
            if (document is not null)
            {
                Assert.Equal((run.JobId, run.SubmittedBy), (document.RunId, document.CreatedBy.UserObjectId));
                documented.Add(run);
            }
        }
        Assert.InRange(documented.Count, runs.Count / 10, runs.Count / 2);

        // Gallery: authors keyed by the author ID of their email, items public and unlisted, a few tokens, all under
        // committed catalog versions.
        var secret = await DeploymentSecret.GetOrCreateAsync(check, DeploymentSecret.AuthorIdKey, TimeProvider.System, ct);
        var authors = await check.GalleryAuthors.AsNoTracking().ToListAsync(ct);
        Assert.InRange(authors.Count, Users / 20, Users / 5);
        Assert.All(authors, a => Assert.Equal(AuthorId.For(a.Email, secret), a.Id));
        var entities = await check.GalleryEntities.AsNoTracking().ToListAsync(ct);
        Assert.Contains(entities, e => e.Visibility == Visibility.Public);
        Assert.Contains(entities, e => e.Visibility == Visibility.Unlisted);
        Assert.All(authors, a => Assert.Equal(entities.Count(e => e.AuthorId == a.Id && e.Visibility == Visibility.Public), a.EntitiesCount));
        Assert.True(await check.CatalogTokens.AnyAsync(ct));
        var version = await check.GalleryCatalogVersions.AsNoTracking().Select(v => v.Value).SingleAsync(ct);
        Assert.All(authors, a => Assert.InRange(a.ChangeVersion, 1, version));
        Assert.All(entities, e => Assert.InRange(e.ChangeVersion, 1, version));

        // Labs: one in each of the upper ten groups; VMs and disks owned by scale users; a cost per resource and day.
        Assert.Equal(10, await check.Labs.CountAsync(ct));
        var vms = await check.LabVirtualMachines.AsNoTracking().ToListAsync(ct);
        var disks = await check.LabDisks.AsNoTracking().ToListAsync(ct);
        Assert.NotEmpty(vms);
        Assert.NotEmpty(disks);
        Assert.Contains(vms, v => v.DeletedAt is not null);
        Assert.Contains(vms, v => v.NotificationEmail is not null);
        var userIds = (await check.Users.Select(u => u.Id).ToListAsync(ct)).ToHashSet();
        Assert.All(vms, v => Assert.Contains(v.OwnerObjectId!.Value, userIds));
        var days = await check.LabCosts.GroupBy(c => c.ResourceUId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        Assert.Equal(vms.Count + disks.Count, days.Count);
        // A cost per day of the resource's life within the 90 days before the epoch.
        var last = new DateOnly(2025, 12, 31);
        var first = last.AddDays(1 - LabsScale.CostDays);
        int Expected(DateTimeOffset created, DateTimeOffset? deleted)
        {
            var from = DateOnly.FromDateTime(created.UtcDateTime) is var c && c > first ? c : first;
            var to = deleted is { } d && DateOnly.FromDateTime(d.UtcDateTime) < last ? DateOnly.FromDateTime(d.UtcDateTime) : last;
            return to.DayNumber - from.DayNumber + 1;
        }
        Assert.All(vms, v => Assert.Equal(Expected(v.CreatedAt, v.DeletedAt), days[v.Id]));
        Assert.All(disks, d => Assert.Equal(Expected(d.CreatedAt.AddMinutes(-5), d.DeletedAt), days[d.Id]));
        Assert.Contains(days.Values, d => d == LabsScale.CostDays);

        // The counts printed are the rows written.
        Assert.Equal(await check.LabCosts.LongCountAsync(ct), result.RowsByTable["LabCosts"]);
        Assert.Equal(runs.Count, result.RowsByTable["ExperimentRuns"]);
        Assert.Equal(entities.Count, result.RowsByTable["GalleryEntities"]);
        Assert.Equal(members.Count, result.RowsByTable["WorkspaceMembers"]);
        Assert.Equal(await check.RoleAssignments.LongCountAsync(ct), result.RowsByTable["RoleAssignments"]);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Scale_data_is_the_same_for_a_seed_and_a_second_run_adds_only_what_is_missing(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var once = await TestDatabase.CreateAsync(provider, ct);
        await using var twice = await TestDatabase.CreateAsync(provider, ct);
        using var folder = new TempFolder();
        var secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        foreach (var database in new[] { once, twice })
        {
            // The same deployment secret, so that the author IDs are the same too.
            await using var db = database.CreateContext();
            db.DeploymentSecrets.Add(new DeploymentSecret { Name = DeploymentSecret.AuthorIdKey, Value = secret, CreatedAt = DateTimeOffset.UnixEpoch });
            await db.SaveChangesAsync(ct);
        }

        await using (var db = once.CreateContext())
        {
            await ScaleData.RunAsync(Target(db, provider, folder.BlobStore()), new ScaleOptions { Users = Users, BatchSize = 100 }, null, ct);
        }
        await using (var db = twice.CreateContext())
        {
            await ScaleData.RunAsync(Target(db, provider, folder.BlobStore()), new ScaleOptions { Users = 130, BatchSize = 100 }, null, ct);
        }
        ScaleResult again;
        await using (var db = twice.CreateContext())
        {
            await ScaleData.RunAsync(Target(db, provider, folder.BlobStore()), new ScaleOptions { Users = Users, BatchSize = 100 }, null, ct);
            again = await ScaleData.RunAsync(Target(db, provider, folder.BlobStore()), new ScaleOptions { Users = Users, BatchSize = 100 }, null, ct);
        }

        Assert.Equal(0, again.UsersCreated);
        Assert.Equal(0, again.Rows);
        Assert.Equal(await SnapshotAsync(once), await SnapshotAsync(twice));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_server_started_on_seeded_data_serves_the_seeded_gallery(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(provider, ct);
        using var folder = new TempFolder();
        await using (var db = database.CreateContext())
        {
            await ScaleData.RunAsync(Target(db, provider, folder.BlobStore()), new ScaleOptions { Users = 200, BatchSize = 100 }, null, ct);
        }
        await using var app = await StartServerAsync(database, folder.Path, ct);

        await AssertServedAsync(app, database, ct);
    }

    [Fact]
    public async Task A_running_server_on_PostgreSQL_catches_up_with_data_seeded_meanwhile()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, ct);
        using var folder = new TempFolder();
        await using var app = await StartServerAsync(database, folder.Path, ct);
        using var http = new HttpClient { BaseAddress = new Uri(TestServer.AddressOf(app)) };
        // The catalog is loaded (empty) before the seed.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("catalog/users/" + new string('A', AuthorId.Length), UriKind.Relative), ct)).StatusCode);
        var loaded = app.Services.GetRequiredService<GalleryCatalog>().Current.Version;
        Assert.True(loaded >= 0);

        await using (var db = database.CreateContext())
        {
            await ScaleData.RunAsync(Target(db, DatabaseProvider.Postgres, folder.BlobStore()), new ScaleOptions { Users = 200, BatchSize = 100 }, null, ct);
        }

        await AssertServedAsync(app, database, ct);
    }

    [Fact]
    public void The_random_streams_are_fixed_by_seed_index_and_purpose()
    {
        var a = ScaleData.Stream(1, 42, "user");
        var b = ScaleData.Stream(1, 42, "user");
        var c = ScaleData.Stream(1, 43, "user");
        var d = ScaleData.Stream(2, 42, "user");

        var first = a.NextInt64();
        Assert.Equal(first, b.NextInt64());
        Assert.NotEqual(first, c.NextInt64());
        Assert.NotEqual(first, d.NextInt64());
        Assert.Equal(1_000_000, Enumerable.Range(0, 1_000_000).Select(i => ScaleData.Stream(1, i, "user").NextInt64()).Distinct().Count());
    }

    [Fact]
    public void Time_ordered_scale_guids_are_version_7_and_follow_time()
    {
        var random = ScaleData.Stream(1, 1, "test");
        var at = new DateTimeOffset(2025, 12, 1, 0, 0, 0, TimeSpan.Zero);

        var early = ScaleData.NewGuid(random, at);
        var late = ScaleData.NewGuid(random, at.AddDays(1));

        Assert.Equal(7, early.Version);
        Assert.True(string.CompareOrdinal(early.ToString(), late.ToString()) < 0);
        Assert.Equal(at.ToUnixTimeMilliseconds(), long.Parse(early.ToString("N")[..12], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ScaleData.DerivedGuid(early, "x"), ScaleData.DerivedGuid(early, "x"));
        Assert.NotEqual(ScaleData.DerivedGuid(early, "x"), ScaleData.DerivedGuid(early, "y"));
    }

    private static ScaleTarget Target(LetheDb db, DatabaseProvider provider, IBlobStore? blobs)
        => new(db, blobs, provider == DatabaseProvider.Postgres ? PostgresStorage.BulkCopy : null);

    private static async Task<WebApplication> StartServerAsync(TestDatabase database, string data, CancellationToken ct)
    {
        var app = await LetheServer.BuildAsync(
            [
                "--urls=http://127.0.0.1:0",
                $"--Lethe:DataDirectory={data}",
                $"--Lethe:Database:Provider={database.Provider}",
                $"--Lethe:Database:ConnectionString={database.ConnectionString}",
                "--Lethe:Demo=false",
                "--Logging:LogLevel:Default=Warning",
            ],
            null,
            ct);
        await app.StartAsync(ct);
        return app;
    }

    /// Every seeded author's profile is served, and their public items by ID.
    private static async Task AssertServedAsync(WebApplication app, TestDatabase database, CancellationToken ct)
    {
        await using var db = database.CreateContext();
        var authors = await db.GalleryAuthors.AsNoTracking().Select(a => a.Id).ToListAsync(ct);
        var items = await db.GalleryEntities.AsNoTracking().Where(e => e.Visibility == Visibility.Public).Select(e => e.Id).ToListAsync(ct);
        Assert.NotEmpty(authors);
        using var http = new HttpClient { BaseAddress = new Uri(TestServer.AddressOf(app)) };
        // The server catches up on its own, in the background: give it a bounded time on a loaded machine.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            using var first = await http.GetAsync(new Uri("catalog/users/" + authors[^1], UriKind.Relative), ct);
            if (first.StatusCode == HttpStatusCode.OK)
            {
                break;
            }
            await Task.Delay(200, ct);
        }
        foreach (var author in authors)
        {
            using var profile = await http.GetAsync(new Uri("catalog/users/" + author, UriKind.Relative), ct);
            Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        }
        using var item = await http.GetAsync(new Uri($"catalog/entities/{items[0]}", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, item.StatusCode);
        var state = await app.Services.GetRequiredService<GalleryCatalog>().FreshAsync(ct);
        Assert.Equal(await db.GalleryEntities.CountAsync(ct), state.Entities.Count);
        Assert.Equal(authors.Count, state.Authors.Count);
    }

    /// Every scale table, ordered by key, without the catalog versions (a batch takes the next one, so they count
    /// batches): equal snapshots mean equal data.
    private static async Task<string> SnapshotAsync(TestDatabase database)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = database.CreateContext();
        var tables = new List<IEnumerable<object>>
        {
            await db.Users.AsNoTracking().OrderBy(u => u.Id).Select(u => new { u.Id, u.Email, u.DisplayName, u.CreatedAt }).ToListAsync(ct),
            await db.RoleAssignments.AsNoTracking().OrderBy(a => a.Id).Select(a => new { a.Id, a.PrincipalId, a.ScopeKey, a.Role, a.CreatedAt }).ToListAsync(ct),
            await db.Workspaces.AsNoTracking().OrderBy(w => w.Id).ToListAsync(ct),
            await db.WorkspaceMembers.AsNoTracking().OrderBy(m => m.WorkspaceId).ThenBy(m => m.PrincipalId).ToListAsync(ct),
            await db.ExperimentRuns.AsNoTracking().OrderBy(r => r.WorkspaceId).ThenBy(r => r.JobIdKey).ToListAsync(ct),
            await db.GalleryAuthors.AsNoTracking().OrderBy(a => a.Id).Select(a => new { a.Id, a.UserId, a.Email, a.Name, a.ContributionScore, a.EntitiesCount, a.ETag, a.UpdatedAt }).ToListAsync(ct),
            await db.GalleryEntities.AsNoTracking().OrderBy(e => e.Id).Select(e => new { e.Id, e.AuthorId, e.Kind, e.Name, e.Tags, e.Visibility, e.CreatedAt }).ToListAsync(ct),
            await db.CatalogTokens.AsNoTracking().OrderBy(t => t.Id).Select(t => new { t.Id, t.AuthorId, t.Hash, t.ExpiresAt, t.RevokedAt }).ToListAsync(ct),
            await db.Labs.AsNoTracking().OrderBy(l => l.Id).ToListAsync(ct),
            await db.LabVirtualMachines.AsNoTracking().OrderBy(v => v.Id).Select(v => new { v.Id, v.LabId, v.Name, v.OwnerObjectId, v.NotificationEmail, v.CreatedAt, v.DeletedAt, v.PricingTier }).ToListAsync(ct),
            await db.LabDisks.AsNoTracking().OrderBy(d => d.Id).ToListAsync(ct),
            await db.LabCosts.AsNoTracking().OrderBy(c => c.Id).ToListAsync(ct),
        };
        return string.Join('\n', tables.Select(rows => JsonSerializer.Serialize(rows)));
    }

    private static Job Job(string kind, string resourceId, Guid? requestedBy, DateTimeOffset at) => new()
    {
        Id = Guid.CreateVersion7(at),
        Kind = kind,
        Payload = "{}",
        State = JobState.Pending,
        RunAfter = at,
        ResourceId = resourceId,
        RequestedBy = requestedBy,
        CreatedAt = at,
    };

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lethe-scale-{Guid.NewGuid():N}");

        public FileSystemBlobStore BlobStore() => new FileSystemBlobStore(System.IO.Path.Join(Path, FileSystemBlobs.FolderName), new BlobOptions(), TimeProvider.System);

        public void Dispose()
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }
}
