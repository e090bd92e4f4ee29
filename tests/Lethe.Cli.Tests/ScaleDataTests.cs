using Lethe.Demo;
using Lethe.Jobs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Cli.Tests;

/// The extension point of the scale data set: a module adds its rows per group and per user.
public sealed class ScaleDataTests
{
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

        var result = await ScaleData.RunAsync(db, new ScaleOptions { Users = 120, BatchSize = 50 }, [part], new InlineProgress<ScaleProgress>(reports.Add), TestContext.Current.CancellationToken);

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
}
