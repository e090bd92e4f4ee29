using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Labs;
using Lethe.Privacy;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Privacy;

/// Issue 11's isolation test: many people share workspaces and a lab; erasing one of them leaves every other
/// person's export bundle as it was, data files byte for byte, except where a file mentioned the erased person (now
/// under the erasure's pseudonym).
public sealed class IsolationTests(Servers servers) : IClassFixture<Servers>
{
    private const int PeopleCount = 6;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Erasing_one_person_leaves_every_other_persons_bundle_as_it_was(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var officer = await host.SignInAsync(DemoAccounts.PrivacyOfficer, Ct);
        var world = await SharedWorld.CreateAsync(host, Ct);
        var erased = world.People[2];
        var others = world.People.Where(p => p != erased).ToList();

        var before = new Dictionary<Guid, Dictionary<string, byte[]>>();
        foreach (var person in others)
        {
            before[person.ObjectId] = await ExportAsync(officer, person);
        }
        // Everyone's bundle holds their own work in the shared places, so the comparison below means something.
        Assert.All(others, p => Assert.Contains(before[p.ObjectId].Keys, k => k.StartsWith("blobs/Workspaces/", StringComparison.Ordinal)));
        Assert.All(others, p => Assert.Contains(p.Email, Encoding.UTF8.GetString(before[p.ObjectId]["data/Labs/LabVirtualMachines.json"]), StringComparison.OrdinalIgnoreCase));

        var erasure = await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Erasure", new PrivacySubject(Email: erased.Email), AnonymizeNow: true, Verification: "Signed letter."), Ct);
        await officer.ApprovePrivacyRequestAsync(erasure.Id, ct: Ct);
        var done = await PrivacyRequestTests.WaitAsync(officer, erasure.Id);
        Assert.True(done.Status == "Completed", $"{done.Status}: {done.Failure}");

        var pseudonym = await host.WithDbAsync(db => db.ExperimentRuns.AsNoTracking().Where(r => r.JobId == world.JobOf(erased, 0)).Select(r => r.SubmittedBy).SingleAsync(Ct));
        Assert.NotEqual(erased.ObjectId, pseudonym);
        var erasedNeedles = SubjectKeys.ForObjectId(erased.ObjectId).With(SubjectKeys.ForEmail(erased.Email)).With(new SubjectKeys { Names = new HashSet<string>(StringComparer.Ordinal) { erased.Name } }).Needles().ToList();
        var tag = pseudonym.ToString("N")[..12];
        var pseudonymNeedles = new[] { pseudonym.ToString("D"), pseudonym.ToString("N"), $"erased-{tag}@erased.invalid", $"Erased user {tag}" };

        var changed = 0;
        foreach (var person in others)
        {
            var after = await ExportAsync(officer, person);
            Assert.Equal(before[person.ObjectId].Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
            foreach (var (path, content) in after)
            {
                var old = before[person.ObjectId][path];
                if (old.AsSpan().SequenceEqual(content))
                {
                    continue;
                }
                // Different only where it mentioned the erased person, who is now the pseudonym.
                changed++;
                var was = Encoding.UTF8.GetString(old);
                var now = Encoding.UTF8.GetString(content);
                Assert.True(erasedNeedles.Any(n => was.Contains(n, StringComparison.OrdinalIgnoreCase)), $"{path} of {person.Email} changed but never mentioned the erased person.");
                Assert.DoesNotContain(erasedNeedles, n => now.Contains(n, StringComparison.OrdinalIgnoreCase));
                Assert.Equal(Mask(was, erasedNeedles), Mask(now, pseudonymNeedles));
            }
        }
        // The erased person is gone; the shared places are still everyone else's.
        TestContext.Current.TestOutputHelper?.WriteLine($"{changed} data files changed, each only where it mentioned the erased person.");
        Assert.False(await host.WithDbAsync(db => db.Users.AnyAsync(u => u.Id == erased.ObjectId, Ct)));
        Assert.True(await host.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Name == world.Workspaces[0], Ct)));
    }

    private static string Mask(string text, IEnumerable<string> needles)
        => needles.OrderByDescending(n => n.Length).Aggregate(text, (t, n) => t.Replace(n, "«person»", StringComparison.OrdinalIgnoreCase));

    /// The bundle's data and blob files (index.html and manifest.json name the request and its time).
    private static async Task<Dictionary<string, byte[]>> ExportAsync(LetheClient officer, SharedWorld.Person person)
    {
        var request = await officer.CreatePrivacyRequestAsync(new CreatePrivacyRequest("Export", new PrivacySubject(ObjectId: person.ObjectId), Verification: "Signed letter."), Ct);
        var done = await PrivacyRequestTests.WaitAsync(officer, request.Id);
        Assert.True(done.Status == "Completed", $"{done.Status}: {done.Failure}");
        var bytes = await PrivacyRequestTests.DownloadAsync(officer, request.Id);
        Assert.True((await BundleVerifier.VerifyAsync(new MemoryStream(bytes), Ct)).IsValid);
        using var zip = new ZipArchive(new MemoryStream(bytes));
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries.Where(e => e.FullName.StartsWith("data/", StringComparison.Ordinal) || e.FullName.StartsWith("blobs/", StringComparison.Ordinal)))
        {
            using var content = entry.Open();
            using var buffer = new MemoryStream();
            content.CopyTo(buffer);
            files[entry.FullName] = buffer.ToArray();
        }
        var manifest = JsonNode.Parse(PrivacyRequestTests.Read(zip, "manifest.json"))!;
        Assert.Equal(1, manifest["locations"]!.AsArray().Single(l => l!["location"]!.GetValue<string>() == "AspNetUsers")!["records"]!.GetValue<long>());
        return files;
    }

    /// People who share two workspaces (each submits jobs with outputs in both) and a lab (each has a VM and a disk,
    /// costs, and rows in a stored usage export); each publishes a gallery item.
    private sealed record SharedWorld(IReadOnlyList<SharedWorld.Person> People, IReadOnlyList<string> Workspaces, string Tag)
    {
        public sealed record Person(LetheClient Client, Guid ObjectId, string Email, string Name);

        public string JobOf(Person person, int workspace) => $"job_{Tag}_{People.ToList().IndexOf(person)}_{workspace}";

        public static async Task<SharedWorld> CreateAsync(LetheHost host, CancellationToken ct)
        {
            var tag = Guid.NewGuid().ToString("N")[..8];
            var (subscription, op) = await host.NewSubscriptionAsync(ct);
            var group = $"iso-{tag}";
            await op.CreateOrUpdateResourceGroupAsync(subscription, group, "northeurope", ct);
            var people = new List<Person>();
            for (var i = 0; i < PeopleCount; i++)
            {
                var email = $"iso.{i}.{tag}@example.test";
                var client = host.Anonymous();
                await client.RegisterAsync(email, LetheHost.Password, ct);
                await client.LoginAsync(email, LetheHost.Password, ct);
                var name = $"Isolde Person{i} {tag}";
                var me = await client.UpdateMeAsync(name, ct);
                await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(subscription, group), "Owner", PrincipalId: me.ObjectId), ct: ct);
                people.Add(new Person(client, me.ObjectId, email, name));
            }
            var workspaces = new[] { $"team-a-{tag}", $"team-b-{tag}" };
            for (var w = 0; w < workspaces.Length; w++)
            {
                var creator = people[w];
                await creator.Client.CreateOrUpdateWorkspaceAsync(subscription, group, workspaces[w], new CreateWorkspaceRequest("northeurope"), ct);
                foreach (var member in people.Where(p => p != creator))
                {
                    await creator.Client.AddWorkspaceMemberAsync(subscription, group, workspaces[w], new AddWorkspaceMemberRequest("Contributor", member.ObjectId), ct);
                }
            }
            var world = new SharedWorld(people, workspaces, tag);
            foreach (var person in people)
            {
                for (var w = 0; w < workspaces.Length; w++)
                {
                    var job = world.JobOf(person, w);
                    await person.Client.SubmitJobAsync(subscription, group, workspaces[w], job, new SubmitJobRequest("shared", $"Run of {person.Name}"), ct);
                    await person.Client.UploadArtifactAsync(subscription, group, workspaces[w], job, "outputs/metrics.json", new MemoryStream(Encoding.UTF8.GetBytes($$"""{"accuracy":0.9{{w}}}""")), ct);
                }
                await person.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", $"Experiment of {person.Name}"), ct);
            }

            await op.CreateOrUpdateLabAsync(subscription, group, "SharedLab", new CreateLabRequest("northeurope", new LabSettings(NotificationEmail: people[0].Email)), ct);
            foreach (var person in people)
            {
                var vm = $"vm-{people.IndexOf(person)}";
                await person.Client.CreateLabVirtualMachineAsync(subscription, group, "SharedLab", vm,
                    new LabVirtualMachineCreateProperties("Standard_B2s", new GalleryImageReferenceContract("Canonical", "ubuntu", "server", "Linux", "latest"), NotificationEmail: person.Email), ct);
                await person.Client.CreateLabDiskAsync(subscription, group, "SharedLab", $"disk-{people.IndexOf(person)}", new LabDiskCreateProperties(64), ct);
                await person.Client.AttachLabDiskAsync(subscription, group, "SharedLab", $"disk-{people.IndexOf(person)}", vm, ct);
            }
            await host.WithDbAsync(async db =>
            {
                var lab = await db.Labs.SingleAsync(l => l.Name == "SharedLab" && l.ResourceGroup == group, ct);
                var vms = await db.LabVirtualMachines.Where(v => v.LabId == lab.Id).ToListAsync(ct);
                var today = DateOnly.FromDateTime(DateTime.UtcNow);
                foreach (var vm in vms)
                {
                    for (var day = 1; day <= 3; day++)
                    {
                        db.LabCosts.Add(new LabCost { Id = Guid.NewGuid(), LabId = lab.Id, ResourceUId = vm.Id, ResourceName = vm.Name, Date = today.AddDays(-day), AmountCents = 100 * day, OwnerObjectId = vm.OwnerObjectId });
                    }
                }
                return await db.SaveChangesAsync(ct);
            });
            var export = await op.ExportLabResourceUsageAsync(subscription, group, "SharedLab", new ExportLabResourceUsageRequest(), ct);
            await op.WaitForOperationAsync(export.Id, ct: ct);
            return world;
        }
    }
}
