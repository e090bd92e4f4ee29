using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Privacy;
using Lethe.Privacy.Requests;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Privacy;

/// Servers with four-eyes approval on.
public sealed class FourEyesServers : Servers
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Lethe:Privacy:FourEyes"] = "true" };
}

/// Servers where an erasure needs no approval.
public sealed class NoApprovalServers : Servers
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Lethe:Privacy:ErasureApproval"] = "None" };
}

/// Issue 11's contract, through the API and the SDK: filing, who sees what, the officer's decisions, the bundle, the
/// erasure acting on live data and ending the person's sessions at once.
public sealed class PrivacyRequestTests(Servers servers, CanaryAzureServers azure, FourEyesServers fourEyes, NoApprovalServers noApproval)
    : IClassFixture<Servers>, IClassFixture<CanaryAzureServers>, IClassFixture<FourEyesServers>, IClassFixture<NoApprovalServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(CanaryErasureTests.Cases), MemberType = typeof(CanaryErasureTests))]
    public async Task A_person_exports_everything_in_one_verified_bundle_without_the_request_showing_who_they_are(DatabaseProvider provider, bool azureBlobs)
    {
        var host = await (azureBlobs ? azure : servers).GetAsync(provider);
        var world = await Canary.CreateAsync(host, Ct);

        using var http = host.Raw(world.A.Client.AccessToken);
        using var filed = await http.PostAsJsonAsync("/privacy/requests", new { type = "Export" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, filed.StatusCode);
        var body = await filed.Content.ReadAsStringAsync(Ct);
        var request = JsonSerializer.Deserialize<PrivacyRequestResource>(body, LetheClient.Json)!;
        Assert.Equal($"/privacy/requests/{request.Id:D}", filed.Headers.Location!.OriginalString);
        Assert.Equal("Export", request.Type);
        Assert.Equal(64, request.Subject.Length);
        Assert.True(request.DueAt - request.ReceivedAt == TimeSpan.FromDays(30));

        var done = await WaitAsync(world.A.Client, request.Id);
        Assert.Equal("Completed", done.Status);
        Assert.All(done.Steps, s => Assert.Equal("Completed", s.Status));
        Assert.Contains(done.Steps, s => s.Location == "AspNetUsers" && s.Records == 1);
        NamesNobody(JsonSerializer.Serialize(done, LetheClient.Json), world);
        NamesNobody(body, world);

        // The bundle: every file checks out against the manifest, which covers every file and every location.
        var bundle = await DownloadAsync(world.A.Client, request.Id);
        var verified = await BundleVerifier.VerifyAsync(new MemoryStream(bundle), Ct);
        Assert.True(verified.IsValid, string.Join("\n", verified.Problems));
        using var zip = new ZipArchive(new MemoryStream(bundle));
        var manifest = JsonNode.Parse(Read(zip, "manifest.json"))!;
        Assert.Equal(request.Id.ToString("D"), manifest["requestId"]!.GetValue<string>());
        Assert.Equal(request.Subject, manifest["subject"]!.GetValue<string>());
        Assert.NotNull(manifest["createdAt"]);
        Assert.NotNull(manifest["letheVersion"]);
        var files = manifest["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()).ToList();
        Assert.Equal(zip.Entries.Select(e => e.FullName).Where(n => n != "manifest.json").Order(), files.Order());
        Assert.All(manifest["files"]!.AsArray(), f => Assert.Matches("^[0-9a-f]{64}$", f!["sha256"]!.GetValue<string>()));
        var locations = manifest["locations"]!.AsArray();
        foreach (var location in Canary.LocationsOfA)
        {
            var entry = locations.Single(l => l!["location"]!.GetValue<string>() == location);
            Assert.True(entry!["records"]!.GetValue<long>() > 0, $"The bundle has no records of A at {location}.");
            Assert.Contains(entry["kind"]!.GetValue<string>(), new[] { "table", "blob" });
        }

        // The data: JSON and CSV of each table; A's account; A's jobs' history documents, outputs and logs, the
        // soft-deleted workspace's too; A's own lab rows in exactly the seed's columns.
        Assert.Contains(world.EmailA, Read(zip, "data/Identity/AspNetUsers.json"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(world.NameA, Read(zip, "data/Identity/AspNetUsers.json"), StringComparison.Ordinal);
        Assert.StartsWith("id,", Read(zip, "data/Identity/AspNetUsers.csv"), StringComparison.Ordinal);
        Assert.Contains(files, f => f.StartsWith("blobs/Workspaces/", StringComparison.Ordinal) && f.EndsWith("/outputs/model.txt", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("blobs/Workspaces/", StringComparison.Ordinal) && f.Contains($"dcid.gone_job_", StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith("blobs/Workspaces/", StringComparison.Ordinal) && f.Contains(world.SharedJob, StringComparison.Ordinal) && f.EndsWith("/history.json", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.Contains("b_job_", StringComparison.Ordinal));
        var vms = Read(zip, "data/Labs/virtualmachines.csv").Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(",", Lethe.Labs.LabUsageRows.VirtualMachineColumns), vms[0]);
        Assert.Equal(2, vms.Length);
        Assert.Contains(",vm-a,", vms[1], StringComparison.Ordinal);
        Assert.Contains(world.A.ObjectId.ToString("D"), vms[1], StringComparison.Ordinal);
        var disks = Read(zip, "data/Labs/disks.csv").Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(",", Lethe.Labs.LabUsageRows.DiskColumns), disks[0]);
        Assert.Equal(2, disks.Length);
        // B's records are not A's: B's VM, B's item.
        Assert.DoesNotContain("vm-b", string.Join("\n", zip.Entries.Where(e => e.FullName.StartsWith("data/", StringComparison.Ordinal)).Select(e => Read(zip, e.FullName))), StringComparison.Ordinal);

        // index.html: one page, nothing from elsewhere, a sentence for every file.
        var index = Read(zip, "index.html");
        Assert.DoesNotContain("<script", index, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", index, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", index, StringComparison.Ordinal);
        Assert.All(files.Where(f => f != "index.html"), f => Assert.Contains(WebUtility.HtmlEncode(f), index, StringComparison.Ordinal));

        // The subject and an officer may download it; anyone else signed in gets 404, nobody signed in 401.
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        Assert.Equal(bundle, await DownloadAsync(officer, request.Id));
        var stranger = await host.NewUserAsync(Ct);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.GetPrivacyRequestAsync(request.Id, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => DownloadAsync(stranger.Client, request.Id));
        Assert.DoesNotContain(await stranger.Client.ListPrivacyRequestsAsync(ct: Ct).ToListAsync(Ct), r => r.Id == request.Id);
        using var anonymous = host.Raw();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/privacy/requests/{request.Id:D}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/privacy/requests/{request.Id:D}/bundle", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/privacy/requests", new { type = "Export" }, Ct)).StatusCode);

        // The ended request keeps the person only as its hash; no job of it names them.
        var row = await host.WithDbAsync(db => db.PrivacyRequests.AsNoTracking().SingleAsync(r => r.Id == request.Id, Ct));
        Assert.Null(row.SubjectObjectId);
        Assert.Null(row.Work);
        Assert.False(await host.WithDbAsync(db => db.Jobs.AnyAsync(j => j.Kind == RunPrivacyRequest.JobKind && j.RequestedBy == world.A.ObjectId, Ct)));
    }

    [Theory]
    [MemberData(nameof(CanaryErasureTests.Cases), MemberType = typeof(CanaryErasureTests))]
    public async Task An_approved_erasure_acts_on_the_live_data_ends_every_session_at_once_and_completes_only_with_no_residue(DatabaseProvider provider, bool azureBlobs)
    {
        var host = await (azureBlobs ? azure : servers).GetAsync(provider);
        var world = await Canary.CreateAsync(host, Ct);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var refresh = (await host.Anonymous().LoginAsync(world.EmailA, LetheHost.Password, Ct)).RefreshToken;
        var catalogToken = (await world.A.Client.CreateCatalogTokenAsync(Ct)).Token;
        using (var catalog = host.Raw())
        {
            catalog.DefaultRequestHeaders.Add(LetheClient.CatalogTokenHeader, catalogToken);
            Assert.Equal(HttpStatusCode.OK, (await catalog.GetAsync("/catalog/entities", Ct)).StatusCode);
        }
        // An export first: the erasure deletes its bundle.
        var export = await WaitAsync(world.A.Client, (await world.A.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Export"), Ct)).Id);
        Assert.Equal("Completed", export.Status);

        var erasure = await world.A.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure", AnonymizeNow: true), Ct);
        Assert.Equal("Verified", erasure.Status);
        Assert.Equal("Pending", erasure.Approval.State);
        // Nothing runs before an officer approves; the subject may not approve their own.
        await Task.Delay(300, Ct);
        Assert.Equal("Verified", (await world.A.Client.GetPrivacyRequestAsync(erasure.Id, Ct)).Status);
        await Assert.ThrowsAsync<LetheForbiddenException>(() => world.A.Client.ApprovePrivacyRequestAsync(erasure.Id, ct: Ct));

        // Records added after filing are erased too.
        var late = await world.A.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Published after the request"), Ct);

        var approved = await officer.ApprovePrivacyRequestAsync(erasure.Id, "Identity checked by sign-in.", Ct);
        Assert.Equal("Approved", approved.Approval.State);
        Assert.Equal(DemoAccounts.PrivacyOfficer.ObjectId, approved.Approval.By);
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.ApprovePrivacyRequestAsync(erasure.Id, ct: Ct));

        var done = await WaitAsync(officer, erasure.Id);
        Assert.True(done.Status == "Completed", $"{done.Status}: {done.Failure}");
        Assert.Equal(RunPrivacyRequest.SessionsStep, done.Steps[0].Location);
        Assert.Equal(RunPrivacyRequest.ResidueStep, done.Steps[^1].Location);
        Assert.NotNull(done.Preview);
        Assert.Contains(done.Preview, p => p.Location == "AspNetUsers" && p.Outcome == "Deleted" && p.Records == 1);
        Assert.Empty(done.Retained ?? []);
        NamesNobody(JsonSerializer.Serialize(done, LetheClient.Json), world);

        // Every session and token stopped working: the bearer token, the refresh token, the catalog token; no sign-in.
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => world.A.Client.GetMeAsync(Ct));
        await Assert.ThrowsAnyAsync<LetheApiException>(() => host.Anonymous().RefreshAsync(refresh, Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().LoginAsync(world.EmailA, LetheHost.Password, Ct));
        using (var catalog = host.Raw())
        {
            catalog.DefaultRequestHeaders.Add(LetheClient.CatalogTokenHeader, catalogToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await catalog.GetAsync("/catalog/entities", Ct)).StatusCode);
        }
        Assert.False(await host.WithDbAsync(db => db.GalleryEntities.AnyAsync(e => e.Id == late.Id, Ct)));

        // Nothing of A anywhere, the earlier export's bundle included; the requests keep only their hash.
        // (The second address A typed into a VM is not A's as far as Lethe can know; the officer names it when it is.)
        var keys = SubjectKeys.ForObjectId(world.A.ObjectId).With(SubjectKeys.ForEmail(world.EmailA))
            .With(new SubjectKeys { Names = new HashSet<string>(StringComparer.Ordinal) { world.NameA } });
        Assert.Empty(await host.SearchEverywhereAsync(keys, [.. world.Containers, PrivacyBlobs.Container]));
        var blobs = host.Factory.Services.GetRequiredService<IBlobStore>();
        Assert.Null(await blobs.GetPropertiesAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(export.Id), Ct));
        Assert.Empty(await blobs.ListAsync(PrivacyBlobs.Container, PrivacyBlobs.Staging(export.Id), Ct).ToListAsync(Ct));
        var rows = await host.WithDbAsync(db => db.PrivacyRequests.AsNoTracking().Where(r => r.Id == export.Id || r.Id == erasure.Id).ToListAsync(Ct));
        Assert.All(rows, r => Assert.True(r.SubjectObjectId is null && r.SubjectEmail is null && r.Work is null && r.BundleName is null));
        Assert.All(rows, r => Assert.Equal(export.Subject, r.SubjectHash));
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.DownloadPrivacyBundleAsync(export.Id, Ct));
        if (provider == DatabaseProvider.Sqlite && !azureBlobs)
        {
            Assert.Empty(host.SearchFiles(keys));
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_dry_run_runs_at_once_changes_nothing_and_previews_each_location(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var world = await Canary.CreateAsync(host, Ct);
        var rows = await host.RowCountsAsync();
        var blobs = await host.BlobHashesAsync(world.Containers);

        var dry = await world.A.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure", DryRun: true), Ct);
        Assert.Equal("NotNeeded", dry.Approval.State);
        var done = await WaitAsync(world.A.Client, dry.Id);

        Assert.Equal("Completed", done.Status);
        var preview = done.Preview!;
        Assert.Contains(preview, p => p is { Location: "AspNetUsers", Outcome: "Deleted", Records: 1 });
        Assert.Contains(preview, p => p is { Location: "ExperimentRuns", Outcome: "Pseudonymized" } && p.Records > 0);
        var vms = Assert.Single(preview, p => p.Location == "LabVirtualMachines");
        Assert.Equal("AnonymizedOn", vms.Outcome);
        Assert.True(vms.Date > DateTimeOffset.UtcNow.AddDays(29));
        Assert.False(string.IsNullOrWhiteSpace(vms.Reason));
        Assert.All(preview, p => Assert.False(string.IsNullOrEmpty(p.Strategy)));
        // Only the request's own row and job were written.
        var after = await host.RowCountsAsync();
        Assert.Equal(rows.Where(r => r.Key is not ("PrivacyRequests" or "Jobs")), after.Where(r => r.Key is not ("PrivacyRequests" or "Jobs")));
        Assert.Equal(blobs, await host.BlobHashesAsync(world.Containers));
        await world.A.Client.GetMeAsync(Ct);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Actions_the_state_does_not_allow_answer_409_and_concurrent_decisions_end_in_one_state(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var user = await host.NewUserAsync(Ct);

        // Deny needs a reason; a denied request can be neither approved nor cancelled.
        var first = await user.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        await Assert.ThrowsAsync<LetheValidationException>(() => officer.DenyPrivacyRequestAsync(first.Id, " ", Ct));
        var denied = await officer.DenyPrivacyRequestAsync(first.Id, "The account is under a legal hold.", Ct);
        Assert.Equal(("Denied", "Denied", "The account is under a legal hold."), (denied.Status, denied.Approval.State, denied.Approval.Reason));
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.ApprovePrivacyRequestAsync(first.Id, ct: Ct));
        await Assert.ThrowsAsync<LetheConflictException>(() => user.Client.CancelPrivacyRequestAsync(first.Id, Ct));
        await Assert.ThrowsAsync<LetheConflictException>(() => user.Client.RetryPrivacyRequestAsync(first.Id, Ct));

        // The subject cancels before it runs; then nothing more is allowed.
        var second = await user.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        Assert.Equal("Cancelled", (await user.Client.CancelPrivacyRequestAsync(second.Id, Ct)).Status);
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.ApprovePrivacyRequestAsync(second.Id, ct: Ct));
        await Assert.ThrowsAsync<LetheConflictException>(() => user.Client.CancelPrivacyRequestAsync(second.Id, Ct));

        // Twenty approvals and cancels at once: at most one approval and one cancel win (an approved erasure that has
        // not started may still be cancelled), the others get 409, never 500; the end state is one of the two.
        var third = await user.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        using var officerHttp = host.Raw(officer.AccessToken);
        using var userHttp = host.Raw(user.Client.AccessToken);
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i => (Approve: i % 2 == 0, (await (i % 2 == 0
            ? officerHttp.PostAsync($"/privacy/requests/{third.Id:D}/approve", null, Ct)
            : userHttp.PostAsync($"/privacy/requests/{third.Id:D}/cancel", null, Ct))).StatusCode)));
        // A cancel after the erasure started finds the person's session ended: 401.
        Assert.All(answers, a => Assert.Contains(a.StatusCode, a.Approve ? [HttpStatusCode.OK, HttpStatusCode.Conflict] : new[] { HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.Unauthorized }));
        Assert.True(answers.Count(a => a.Approve && a.StatusCode == HttpStatusCode.OK) <= 1);
        Assert.True(answers.Count(a => !a.Approve && a.StatusCode == HttpStatusCode.OK) <= 1);
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
        var final = await WaitAsync(officer, third.Id);
        Assert.Contains(final.Status, new[] { "Cancelled", "Completed" });
        // Cancelled means the erasure never ran: the person is still there.
        Assert.Equal(final.Status == "Cancelled", await host.WithDbAsync(db => db.Users.AnyAsync(u => u.Id == user.ObjectId, Ct)));
        if (final.Status == "Cancelled")
        {
            await user.Client.GetMeAsync(Ct);
        }
        // A completed request cannot be retried or cancelled; an export needs no approval.
        var export = await WaitAsync(officer, (await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Export"), Ct)).Id);
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.ApprovePrivacyRequestAsync(export.Id, ct: Ct));
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.RetryPrivacyRequestAsync(export.Id, Ct));
        await Assert.ThrowsAsync<LetheConflictException>(() => officer.CancelPrivacyRequestAsync(export.Id, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Bad_bodies_get_400_naming_the_field_and_write_nothing(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var before = await host.WithDbAsync(db => db.PrivacyRequests.CountAsync(Ct));
        var cases = new (string Body, string Field, bool AsOfficer)[]
        {
            ("{}", "type", false),
            ("""{"type":"Delete"}""", "type", false),
            ("""{"type":1}""", "type", false),
            ("""{"type":"Erasure","dryRun":"yes"}""", "dryRun", false),
            ("""{"type":"Erasure","anonymizeNow":1}""", "anonymizeNow", false),
            ("""{"type":"Export","dryRun":true}""", "dryRun", false),
            ("""{"type":"Export","color":"red"}""", "color", false),
            ("""{"type":"Export","verification":"I am me"}""", "verification", false),
            ("""{"type":"Export","subject":"ana@example.test","verification":"id card"}""", "subject", true),
            ("""{"type":"Export","subject":{},"verification":"id card"}""", "subject", true),
            ("""{"type":"Export","subject":{"email":"a@example.test","objectId":"7f2d3c4e-1111-4222-8333-944455556666"},"verification":"id card"}""", "subject", true),
            ("""{"type":"Export","subject":{"objectId":"not-a-guid"},"verification":"id card"}""", "subject.objectId", true),
            ("""{"type":"Export","subject":{"email":"not an email"},"verification":"id card"}""", "subject.email", true),
            ("""{"type":"Export","subject":{"authorId":"zz"},"verification":"id card"}""", "subject.authorId", true),
            ("""{"type":"Export","subject":{"phone":"+1 555"},"verification":"id card"}""", "subject.phone", true),
            ("""{"type":"Export","subject":{"email":"a@example.test"}}""", "verification", true),
            ("""{"type":"Export",""", "body", false),
            ("[1,2]", "body", false),
        };
        foreach (var (json, field, asOfficer) in cases)
        {
            using var http = host.Raw(asOfficer ? officer.AccessToken : user.Client.AccessToken);
            using var answer = await http.PostAsync("/privacy/requests", new StringContent(json, Encoding.UTF8, "application/json"), Ct);
            Assert.True(answer.StatusCode == HttpStatusCode.BadRequest, $"{json}: {answer.StatusCode}");
            var problem = JsonNode.Parse(await answer.Content.ReadAsStringAsync(Ct))!;
            Assert.True(problem["errors"]?[field] is not null, $"{json}: the problem names {problem["errors"]?.ToJsonString()}, not {field}");
            Assert.DoesNotContain("System.", problem.ToJsonString(), StringComparison.Ordinal);
        }
        // Filing for someone else is an officer's; nobody else learns whether the person exists.
        using (var http = host.Raw(user.Client.AccessToken))
        {
            foreach (var email in new[] { DemoAccounts.LabUser1.Email, "nobody-at-all@example.test" })
            {
                using var answer = await http.PostAsJsonAsync("/privacy/requests", new { type = "Export", subject = new { email }, verification = "x" }, Ct);
                Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
            }
        }
        using (var http = host.Raw(user.Client.AccessToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/privacy/requests?status=Done", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync($"/privacy/requests/{Guid.NewGuid():D}/deny", new StringContent("""{"reason":5}""", Encoding.UTF8, "application/json"), Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/privacy/requests/{Guid.NewGuid():D}", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/privacy/requests/not-a-guid", Ct)).StatusCode);
        }
        Assert.Equal(before, await host.WithDbAsync(db => db.PrivacyRequests.CountAsync(Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_officer_files_for_a_person_by_email_and_the_person_sees_it_and_an_unknown_person_gets_an_empty_bundle(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var user = await host.NewUserAsync(Ct);

        var forUser = await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Export", new PrivacySubject(Email: user.Email.ToUpperInvariant()), Verification: "Passport seen at the front desk."), Ct);
        Assert.True(forUser.FiledByOfficer);
        Assert.Contains(await user.Client.ListPrivacyRequestsAsync(ct: Ct).ToListAsync(Ct), r => r.Id == forUser.Id);
        var done = await WaitAsync(user.Client, forUser.Id);
        Assert.Equal("Completed", done.Status);
        using (var zip = new ZipArchive(new MemoryStream(await DownloadAsync(user.Client, forUser.Id))))
        {
            Assert.Contains(user.Email, Read(zip, "data/Identity/AspNetUsers.json"), StringComparison.Ordinal);
        }
        // The officer's evidence stays (shown to officers only) until the person is erased.
        Assert.Equal("Passport seen at the front desk.", (await officer.GetPrivacyRequestAsync(forUser.Id, Ct)).Verification);
        Assert.Null((await user.Client.GetPrivacyRequestAsync(forUser.Id, Ct)).Verification);
        var erasure = await user.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        await officer.ApprovePrivacyRequestAsync(erasure.Id, ct: Ct);
        Assert.Equal("Completed", (await WaitAsync(officer, erasure.Id)).Status);
        Assert.Null((await officer.GetPrivacyRequestAsync(forUser.Id, Ct)).Verification);

        foreach (var subject in new[] { new PrivacySubject(Email: $"nobody-{Guid.NewGuid():N}@example.test"), new PrivacySubject(ObjectId: Guid.NewGuid()), new PrivacySubject(AuthorId: new string('A', 64)) })
        {
            var unknown = await WaitAsync(officer, (await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Export", subject, Verification: "Letter with signature."), Ct)).Id);
            Assert.Equal("Completed", unknown.Status);
            using var zip = new ZipArchive(new MemoryStream(await DownloadAsync(officer, unknown.Id)));
            Assert.All(JsonNode.Parse(Read(zip, "manifest.json"))!["locations"]!.AsArray(), l => Assert.Equal(0, l!["records"]!.GetValue<long>()));
            var unknownErasure = await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure", subject, Verification: "Letter with signature."), Ct);
            await officer.ApprovePrivacyRequestAsync(unknownErasure.Id, ct: Ct);
            Assert.Equal("Completed", (await WaitAsync(officer, unknownErasure.Id)).Status);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_officer_sees_every_request_open_ones_first_most_overdue_first_and_a_person_only_their_own(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var a = await host.NewUserAsync(Ct);
        var b = await host.NewUserAsync(Ct);
        var ra = await a.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        var rb = await b.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        // rb was received 40 days ago: overdue.
        await host.WithDbAsync(db => db.PrivacyRequests.Where(r => r.Id == rb.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.DueAt, DateTimeOffset.UtcNow.AddDays(-10)), Ct));

        var queue = await officer.ListPrivacyRequestsAsync(status: "Verified", ct: Ct).ToListAsync(Ct);
        Assert.True(queue.FindIndex(r => r.Id == rb.Id) < queue.FindIndex(r => r.Id == ra.Id));
        Assert.True(queue.Single(r => r.Id == rb.Id).Overdue);
        Assert.False(queue.Single(r => r.Id == ra.Id).Overdue);
        Assert.All(queue, r => Assert.Equal("Verified", r.Status));
        Assert.Equal([ra.Id], (await a.Client.ListPrivacyRequestsAsync(ct: Ct).ToListAsync(Ct)).Select(r => r.Id));
        Assert.DoesNotContain(await officer.ListPrivacyRequestsAsync(mine: true, ct: Ct).ToListAsync(Ct), r => r.Id == ra.Id);
        await officer.DenyPrivacyRequestAsync(ra.Id, "Test done.", Ct);
        await officer.DenyPrivacyRequestAsync(rb.Id, "Test done.", Ct);
    }

    [Fact]
    public async Task With_four_eyes_the_officer_who_filed_an_erasure_cannot_approve_it_and_another_can()
    {
        var host = await fourEyes.GetAsync(DatabaseProvider.Sqlite);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var second = await host.NewUserAsync(Ct);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);
        await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest("/", "PrivacyOfficer", PrincipalId: second.ObjectId), ct: Ct);
        var person = await host.NewUserAsync(Ct);

        var erasure = await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure", new PrivacySubject(ObjectId: person.ObjectId), Verification: "Video call."), Ct);
        await Assert.ThrowsAsync<LetheForbiddenException>(() => officer.ApprovePrivacyRequestAsync(erasure.Id, ct: Ct));
        Assert.Equal("Pending", (await officer.GetPrivacyRequestAsync(erasure.Id, Ct)).Approval.State);
        await second.Client.ApprovePrivacyRequestAsync(erasure.Id, "Second pair of eyes.", Ct);
        Assert.Equal("Completed", (await WaitAsync(second.Client, erasure.Id)).Status);
    }

    [Fact]
    public async Task Without_approval_an_erasure_runs_once_verified()
    {
        var host = await noApproval.GetAsync(DatabaseProvider.Sqlite);
        var person = await host.NewUserAsync(Ct);
        var erasure = await person.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure"), Ct);
        Assert.Equal("NotNeeded", erasure.Approval.State);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        Assert.Equal("Completed", (await WaitAsync(officer, erasure.Id)).Status);
        Assert.False(await host.WithDbAsync(db => db.Users.AnyAsync(u => u.Id == person.ObjectId, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failed_request_resumes_from_its_failing_step_and_bundles_go_after_their_retention(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var person = await host.NewUserAsync(Ct);
        var export = await WaitAsync(person.Client, (await person.Client.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Export"), Ct)).Id);
        var blobs = host.Factory.Services.GetRequiredService<IBlobStore>();

        // As a failure leaves it: Failed at a step, with the work before it recorded (the staged files of the
        // earlier steps deleted here, so a rerun of them would show).
        var work = new RequestWork
        {
            Keys = StoredKeys.From(SubjectKeys.ForObjectId(person.ObjectId)),
            Now = DateTimeOffset.UtcNow,
            Next = 3,
        };
        var failed = await host.WithDbAsync(async db =>
        {
            var request = new PrivacyRequest
            {
                Id = Guid.CreateVersion7(),
                Type = PrivacyRequestType.Export,
                SubjectHash = export.Subject,
                SubjectObjectId = person.ObjectId,
                ReceivedAt = DateTimeOffset.UtcNow,
                DueAt = DateTimeOffset.UtcNow.AddDays(30),
                Status = PrivacyRequestStatus.Failed,
                FailureStep = "WorkspaceMembers",
                FailureMessage = "The step \"WorkspaceMembers\" failed 3 times.",
                Work = work.Serialize(),
                Version = Guid.NewGuid(),
            };
            db.PrivacyRequests.Add(request);
            await db.SaveChangesAsync(Ct);
            return request.Id;
        });
        var shown = await person.Client.GetPrivacyRequestAsync(failed, Ct);
        Assert.Equal(new PrivacyFailure("WorkspaceMembers", "The step \"WorkspaceMembers\" failed 3 times."), shown.Failure);

        var retried = await person.Client.RetryPrivacyRequestAsync(failed, Ct);
        Assert.Null(retried.Failure);
        var done = await WaitAsync(person.Client, failed);
        Assert.Equal("Completed", done.Status);
        using (var zip = new ZipArchive(new MemoryStream(await DownloadAsync(person.Client, failed))))
        {
            var manifest = JsonNode.Parse(Read(zip, "manifest.json"))!;
            // Steps 0..2 were done before the failure (this made-up work staged nothing for them): not run again.
            Assert.Equal(0, manifest["locations"]!.AsArray().Count(l => l!["location"]!.GetValue<string>() is "PrivacyRequests"));
            Assert.Contains(person.Email, Read(zip, "data/Identity/AspNetUsers.json"), StringComparison.Ordinal);
        }

        // Seven days on, the sweep deletes both bundles; the request says the bundle is gone.
        var (bundles, _) = await host.WithDbAsync(db => PurgeExpiredBundles.RunAsync(db, blobs, DateTimeOffset.UtcNow.AddDays(7).AddMinutes(1), Ct));
        Assert.True(bundles >= 2);
        Assert.Null(await blobs.GetPropertiesAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(export.Id), Ct));
        var gone = await Assert.ThrowsAsync<LetheConflictException>(() => person.Client.DownloadPrivacyBundleAsync(export.Id, Ct));
        Assert.Contains("7 days", gone.Detail, StringComparison.Ordinal);
        Assert.Null((await officer.GetPrivacyRequestAsync(export.Id, Ct)).Bundle);
    }

    internal static async Task<PrivacyRequestResource> WaitAsync(LetheClient client, Guid id)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        return await client.WaitForPrivacyRequestAsync(id, pollInterval: TimeSpan.FromMilliseconds(100), untilApprovalNeeded: false, ct: timeout.Token);
    }

    internal static async Task<byte[]> DownloadAsync(LetheClient client, Guid id)
    {
        using var buffer = new MemoryStream();
        await client.DownloadPrivacyBundleAsync(id, buffer, Ct);
        return buffer.ToArray();
    }

    internal static string Read(ZipArchive zip, string path)
    {
        using var reader = new StreamReader(zip.GetEntry(path)?.Open() ?? throw new InvalidOperationException($"{path} is not in the bundle."));
        return reader.ReadToEnd();
    }

    /// No part of a request shows the subject's identifiers.
    private static void NamesNobody(string json, Canary world)
    {
        foreach (var needle in new[] { world.A.ObjectId.ToString("D"), world.A.ObjectId.ToString("N"), world.EmailA, world.EmailA.ToLowerInvariant(), world.NameA, world.LabEmail })
        {
            Assert.DoesNotContain(needle, json, StringComparison.OrdinalIgnoreCase);
        }
    }
}
