using System.Net.Http.Json;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Testing;

namespace Lethe.Server.Tests.Workspaces;

/// The jobs, assets and model versions lists page the ARM way: `$top`, an opaque `$skipToken`, a nextLink
/// that keeps the other query parameters. Paging is the database's work, so these run on both databases
/// with the file-system blob store.
public sealed partial class WorkspaceApiTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_jobs_list_pages_and_its_next_links_keep_include_archived(DatabaseProvider database)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, BlobProvider.FileSystem), Ct);
        var op = s.Operator;
        var ids = Enumerable.Range(1, 7).Select(i => $"job-{i}").ToList();
        foreach (var id in ids)
        {
            await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, id, new SubmitJobRequest("exp"), Ct);
        }
        // The first submitted come last (newest first): archived jobs sit on the second and third pages.
        await op.ArchiveJobAsync(s.SubscriptionId, s.Group, s.Name, "job-1", Ct);
        await op.ArchiveJobAsync(s.SubscriptionId, s.Group, s.Name, "job-2", Ct);
        using var http = s.Host.Raw(op.AccessToken);
        var jobs = JobsPath(s);

        // An unrelated parameter with characters that need escaping rides along, escaped as it came.
        var pages = await PagesAsync<JobResource>(http, $"{jobs}?includeArchived=true&note=a%20b%26c&$top=3");
        var whole = await op.SendAsync<ArmList<JobResource>>(HttpMethod.Get, $"{jobs}?includeArchived=true", null, Ct);
        var active = await PagesAsync<JobResource>(http, $"{jobs}?$top=3");

        Assert.Equal([3, 3, 1], pages.Select(p => p.Value.Count));
        Assert.All(pages.SkipLast(1), p => Assert.Contains("includeArchived=true", p.NextLink, StringComparison.Ordinal));
        Assert.All(pages.SkipLast(1), p => Assert.Contains("note=a%20b%26c", p.NextLink, StringComparison.Ordinal));
        Assert.All(pages.SkipLast(1), p => Assert.Contains("$top=3&$skipToken=", p.NextLink, StringComparison.Ordinal));
        Assert.Null(pages[^1].NextLink);
        Assert.Equal(whole.Value.Select(j => j.JobId), pages.SelectMany(p => p.Value).Select(j => j.JobId));
        Assert.Equal(ids.Order(StringComparer.Ordinal), whole.Value.Select(j => j.JobId).Order(StringComparer.Ordinal));
        Assert.Null(whole.NextLink);
        Assert.Equal([3, 2], active.Select(p => p.Value.Count));
        Assert.Equal(ids.Skip(2).Order(StringComparer.Ordinal), active.SelectMany(p => p.Value).Select(j => j.JobId).Order(StringComparer.Ordinal));
        // The SDK follows the nextLinks, from a page size of its caller's choosing too.
        Assert.Equal(whole.Value.Select(j => j.JobId), (await op.ListJobsAsync(s.SubscriptionId, s.Group, s.Name, includeArchived: true, Ct).ToListAsync(Ct)).Select(j => j.JobId));
        Assert.Equal(whole.Value.Select(j => j.JobId), (await op.ListAsync<JobResource>($"{jobs}?includeArchived=true&$top=3", Ct).ToListAsync(Ct)).Select(j => j.JobId));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Asset_and_model_version_lists_page_by_name_and_by_version(DatabaseProvider database)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, BlobProvider.FileSystem), Ct);
        var op = s.Operator;
        var computes = new[] { "cpu-e", "cpu-a", "cpu-d", "cpu-b", "cpu-c" };
        foreach (var name in computes)
        {
            await op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, name, new PutAssetRequest(), Ct);
        }
        foreach (var name in new[] { "clf", "clf", "clf", "reg", "svm" })
        {
            await op.RegisterModelAsync(s.SubscriptionId, s.Group, s.Name, name, new Dictionary<string, Stream> { ["model.pkl"] = Text(name) }, ct: Ct);
        }
        using var http = s.Host.Raw(op.AccessToken);
        var path = LetheClient.WorkspacePath(s.SubscriptionId, s.Group, s.Name);

        var computePages = await PagesAsync<AssetResource>(http, $"{path}/computes?$top=2");
        var modelPages = await PagesAsync<AssetResource>(http, $"{path}/models?$top=2");
        var versionPages = await PagesAsync<AssetResource>(http, $"{path}/models/clf/versions?$top=2");

        Assert.Equal([2, 2, 1], computePages.Select(p => p.Value.Count));
        Assert.Equal(computes.Order(StringComparer.Ordinal), computePages.SelectMany(p => p.Value).Select(a => a.Name));
        Assert.Null(computePages[^1].NextLink);
        // One entry per model, its latest version: pages count models, not versions.
        Assert.Equal([2, 1], modelPages.Select(p => p.Value.Count));
        Assert.Equal([("clf", 3), ("reg", 1), ("svm", 1)], modelPages.SelectMany(p => p.Value).Select(a => (a.Name, a.Version)));
        Assert.Equal([2, 1], versionPages.Select(p => p.Value.Count));
        Assert.Equal([1, 2, 3], versionPages.SelectMany(p => p.Value).Select(a => a.Version));
        Assert.Equal(computes.Order(StringComparer.Ordinal), (await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, Ct).ToListAsync(Ct)).Select(a => a.Name));
        Assert.Equal([1, 2, 3], (await op.ListModelVersionsAsync(s.SubscriptionId, s.Group, s.Name, "clf", Ct).ToListAsync(Ct)).Select(a => a.Version));
        Assert.Equal([1, 2, 3], (await op.ListAsync<AssetResource>($"{path}/models/clf/versions?$top=1", Ct).ToListAsync(Ct)).Select(a => a.Version));
        // Past the end of an existing model's versions: an empty page; a model with none: 404.
        Assert.Empty((await op.SendAsync<ArmList<AssetResource>>(HttpMethod.Get, $"{path}/models/clf/versions?$skipToken=o50", null, Ct)).Value);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.SendAsync(HttpMethod.Get, $"{path}/models/nothing/versions?$skipToken=o50", null, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.ListModelVersionsAsync(s.SubscriptionId, s.Group, s.Name, "nothing", Ct).ToListAsync(Ct).AsTask());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_lists_reject_a_page_size_out_of_range_or_a_forged_skip_token(DatabaseProvider database)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, BlobProvider.FileSystem), Ct);
        var path = LetheClient.WorkspacePath(s.SubscriptionId, s.Group, s.Name);

        foreach (var list in new[] { JobsPath(s), $"{path}/computes", $"{path}/models/clf/versions" })
        {
            foreach (var (query, field) in new[] { ("$top=0", "$top"), ("$top=1001", "$top"), ("$skipToken=forged", "$skipToken") })
            {
                var problem = await Assert.ThrowsAsync<LetheValidationException>(() => s.Operator.SendAsync(HttpMethod.Get, $"{list}?{query}", null, Ct));
                Assert.Equal(field, Assert.Single(problem.Errors).Key);
            }
        }
    }

    private static string JobsPath(WorkspaceScenario s) => LetheClient.WorkspacePath(s.SubscriptionId, s.Group, s.Name) + "/jobs";

    /// Every page from <paramref name="first"/> on, following the nextLinks (at most ten pages).
    private static async Task<List<ArmList<T>>> PagesAsync<T>(HttpClient http, string first)
    {
        var pages = new List<ArmList<T>>();
        var next = new Uri(first, UriKind.Relative);
        while (next is not null)
        {
            var page = await http.GetFromJsonAsync<ArmList<T>>(next, LetheClient.Json, Ct);
            pages.Add(page!);
            next = page!.NextLink is { } link ? new Uri(link, UriKind.Absolute) : null;
            Assert.True(pages.Count <= 10, "The nextLinks do not end.");
        }
        return pages;
    }
}
