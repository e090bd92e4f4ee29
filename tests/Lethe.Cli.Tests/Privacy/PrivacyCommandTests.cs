using System.IO.Compression;
using System.Text.RegularExpressions;
using Lethe.Client;
using Lethe.Demo;

namespace Lethe.Cli.Tests.Privacy;

/// `lethe privacy export|erase|requests|show|approve|deny|cancel|retry|bundle` against a real server with the demo
/// accounts. The tests of one class run one at a time on one server; each erasure erases a demo account no other test
/// here uses (Contributor), or only files one that never runs (LabAdmin, GalleryAuthor), so order does not matter.
public sealed partial class PrivacyCommandTests(TestServer server) : IClassFixture<TestServer>
{
    private const string Verification = "Identity card checked at the service desk";

    [Fact]
    public async Task A_person_exports_their_data_and_the_downloaded_bundle_verifies()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var target = Path.Combine(user.ConfigDirectory, "bundle.zip");

        var export = await user.RunAsync("privacy", "export", "--out", target);
        var verify = await user.RunAsync("privacy", "bundle", "verify", target);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains($"is at {target}", export.Out, StringComparison.Ordinal);
        Assert.Matches(@"Verified the bundle of request [0-9a-f-]{36}: \d+ files \([\d.]+ KB unpacked\), every size and SHA-256 as manifest\.json states, nothing unlisted\.", export.Out);
        Assert.DoesNotContain(DemoAccounts.LabUser1.Email, export.Out + export.Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Equal([target], Directory.GetFiles(user.ConfigDirectory, "*.zip*"));
        Assert.Empty(Directory.GetFiles(user.ConfigDirectory, "*.part"));
        using var zip = ZipFile.OpenRead(target);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("manifest.json", names);
        Assert.Contains("index.html", names);
        Assert.Contains("data/Identity/AspNetUsers.json", names);
        Assert.Contains("data/Labs/virtualmachines.csv", names);
        using var users = new StreamReader(zip.GetEntry("data/Identity/AspNetUsers.json")!.Open());
        Assert.Contains(DemoAccounts.LabUser1.Email, await users.ReadToEndAsync(TestContext.Current.CancellationToken), StringComparison.OrdinalIgnoreCase);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
        }
    }

    [Fact]
    public async Task A_bundle_with_one_changed_byte_or_an_unlisted_file_fails_verification_naming_the_file()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var original = Path.Combine(user.ConfigDirectory, "bundle.zip");
        var tampered = Path.Combine(user.ConfigDirectory, "tampered.zip");
        var extra = Path.Combine(user.ConfigDirectory, "extra.zip");
        var export = await user.RunAsync("privacy", "export", "--out", original);
        Assert.True(export.ExitCode == 0, export.ToString());

        await RewriteAsync(original, tampered, (name, content) =>
        {
            if (name == "data/Identity/AspNetUsers.json")
            {
                content[content.Length / 2] ^= 0x01;
            }
        });
        await RewriteAsync(original, extra, (_, _) => { }, ("data/Labs/notes.txt", "not in the manifest"u8.ToArray()));
        var changed = await user.RunAsync("privacy", "bundle", "verify", tampered);
        var unlisted = await user.RunAsync("privacy", "bundle", "verify", extra);
        var intact = await user.RunAsync("privacy", "bundle", "verify", original, "-o", "json");

        Assert.Equal(ExitCodes.Failed, changed.ExitCode);
        Assert.Contains("data/Identity/AspNetUsers.json has SHA-256", changed.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, unlisted.ExitCode);
        Assert.Contains("data/Labs/notes.txt is in the bundle but not listed in manifest.json", unlisted.Error, StringComparison.Ordinal);
        Assert.True(intact.ExitCode == 0, intact.ToString());
        var report = intact.Json<VerifyReport>();
        Assert.True(report.IsValid);
        Assert.Empty(report.Problems);
        Assert.True(report.Files >= 4);
    }

    [Fact]
    public async Task Verifying_a_missing_file_or_a_file_that_is_not_a_zip_says_so()
    {
        using var user = new CliUser(server.Url);
        Directory.CreateDirectory(user.ConfigDirectory);
        var text = Path.Combine(user.ConfigDirectory, "notes.zip");
        await File.WriteAllTextAsync(text, "not a zip", TestContext.Current.CancellationToken);

        var missing = await user.RunAsync("privacy", "bundle", "verify", Path.Combine(user.ConfigDirectory, "nothing.zip"));
        var notZip = await user.RunAsync("privacy", "bundle", "verify", text);

        Assert.Equal(ExitCodes.Failed, missing.ExitCode);
        Assert.Contains("nothing.zip does not exist.", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, notZip.ExitCode);
        Assert.Contains("The file is not a zip archive.", notZip.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", missing.Error + notZip.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_officer_exports_a_person_s_data_by_email_only_with_a_verification_note()
    {
        using var officer = new CliUser(server.Url);
        await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email);
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var target = Path.Combine(officer.ConfigDirectory, "leo.zip");

        var unverified = await officer.RunAsync("privacy", "export", "--subject-email", DemoAccounts.LabUser2.Email, "--out", target);
        var nothingWritten = !File.Exists(target);
        var notOfficer = await user.RunAsync("privacy", "export", "--subject-email", DemoAccounts.LabUser2.Email, "--verification", Verification, "--no-wait");
        var export = await officer.RunAsync("privacy", "export", "--subject-email", DemoAccounts.LabUser2.Email, "--verification", Verification, "--out", target);

        Assert.Equal(ExitCodes.Usage, unverified.ExitCode);
        Assert.Contains("--verification is required", unverified.Error, StringComparison.Ordinal);
        Assert.True(nothingWritten);
        Assert.Equal(ExitCodes.Failed, notOfficer.ExitCode);
        Assert.Contains("Only a privacy officer may file a request for someone else", notOfficer.Error, StringComparison.Ordinal);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.DoesNotContain(DemoAccounts.LabUser2.Email, export.Out + export.Error, StringComparison.OrdinalIgnoreCase);
        using var zip = ZipFile.OpenRead(target);
        using var users = new StreamReader(zip.GetEntry("data/Identity/AspNetUsers.json")!.Open());
        var content = await users.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.Contains(DemoAccounts.LabUser2.Email, content, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(DemoAccounts.PrivacyOfficer.Email, content, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_dry_run_erasure_prints_the_preview_and_the_person_can_still_sign_in()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);

        var dryRun = await user.RunAsync("privacy", "erase", "--dry-run");
        using var again = new CliUser(server.Url);
        var login = await again.RunWithInputAsync(DemoAccounts.Password + "\n", "login", "--email", DemoAccounts.LabUser1.Email, "--password-stdin");

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Matches(@"Dry run [0-9a-f-]{36} completed; nothing was changed\.", dryRun.Out);
        var header = dryRun.Out.Split('\n').Single(l => l.StartsWith("Module", StringComparison.Ordinal));
        Assert.Matches(@"^Module +Location +Outcome +Records +Date/Reason$", header);
        Assert.Matches(@"(?m)^Identity +AspNetUsers +Deleted +1\b", dryRun.Out);
        Assert.Matches(@"(?m)^Labs +\S+ +AnonymizedOn +\d+ +\d{4}-\d{2}-\d{2}", dryRun.Out);
        Assert.DoesNotContain(DemoAccounts.LabUser1.Email, dryRun.Out + dryRun.Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(login.ExitCode == 0, login.ToString());
    }

    [Fact]
    public async Task An_erasure_waits_for_an_officer_s_approval_then_runs_and_the_person_can_no_longer_sign_in()
    {
        using var person = new CliUser(server.Url);
        await person.LoginAsync(DemoAccounts.Contributor.Email);
        using var officer = new CliUser(server.Url);
        await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email);

        var erase = await person.RunAsync("privacy", "erase");
        var id = IdIn(erase.Out);
        var pending = await person.RunAsync("privacy", "requests", "--status", "Verified");
        var approve = await officer.RunAsync("privacy", "approve", id, "--reason", "Checked: no legal hold", "--wait");
        var show = await officer.RunAsync("privacy", "show", id, "-o", "json");
        using var again = new CliUser(server.Url);
        var login = await again.RunWithInputAsync(DemoAccounts.Password + "\n", "login", "--email", DemoAccounts.Contributor.Email, "--password-stdin");
        var stale = await person.RunAsync("privacy", "requests");

        Assert.True(erase.ExitCode == 0, erase.ToString());
        Assert.Contains("waits for a privacy officer's approval (approval Pending)", erase.Out, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^{id} +erasure +Verified +Pending +", pending.Out);
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Contains($"Erasure {id} completed.", approve.Out, StringComparison.Ordinal);
        Assert.True(approve.Out.Contains("Nothing was retained.", StringComparison.Ordinal) || approve.Out.Contains("Retained by a declared rule:", StringComparison.Ordinal), approve.ToString());
        var done = show.Json<PrivacyRequestResource>();
        Assert.Equal(PrivacyRequestStatuses.Completed, done.Status);
        Assert.Equal("Approved", done.Approval.State);
        Assert.Equal(DemoAccounts.PrivacyOfficer.ObjectId, done.Approval.By);
        Assert.All(done.Steps, s => Assert.Equal("Completed", s.Status));
        Assert.Equal(ExitCodes.NotLoggedIn, login.ExitCode);
        Assert.Contains("Login to", login.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotLoggedIn, stale.ExitCode);
    }

    [Fact]
    public async Task A_denial_needs_a_reason_and_the_person_sees_it()
    {
        using var person = new CliUser(server.Url);
        await person.LoginAsync(DemoAccounts.GalleryAuthor.Email);
        using var officer = new CliUser(server.Url);
        await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email);
        var id = IdIn((await person.RunAsync("privacy", "erase", "--no-wait")).Out);

        var noReason = await officer.RunAsync("privacy", "deny", id);
        var blankReason = await officer.RunAsync("privacy", "deny", id, "--reason", " ");
        var selfDeny = await person.RunAsync("privacy", "deny", id, "--reason", "Changed my mind");
        var deny = await officer.RunAsync("privacy", "deny", id, "--reason", "Invoices must be kept for ten years");
        var list = await person.RunAsync("privacy", "requests");
        var show = await person.RunAsync("privacy", "show", id);

        Assert.Equal(ExitCodes.Usage, noReason.ExitCode);
        Assert.Contains("--reason", noReason.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, blankReason.ExitCode);
        Assert.Contains("reason is required", blankReason.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, selfDeny.ExitCode);
        Assert.Contains("Only a privacy officer may deny a request.", selfDeny.Error, StringComparison.Ordinal);
        Assert.True(deny.ExitCode == 0, deny.ToString());
        Assert.Contains($"Denied erasure {id}.", deny.Out, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^{id} +erasure +Denied +Denied +", list.Out);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Matches($@"(?m)^Approval +Denied by {DemoAccounts.PrivacyOfficer.ObjectId} at .+: Invoices must be kept for ten years$", show.Out);
    }

    [Fact]
    public async Task A_cancelled_erasure_cannot_be_approved_and_the_conflict_is_shown()
    {
        using var person = new CliUser(server.Url);
        await person.LoginAsync(DemoAccounts.LabAdmin.Email);
        using var officer = new CliUser(server.Url);
        await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email);
        var id = IdIn((await person.RunAsync("privacy", "erase")).Out);

        var cancel = await person.RunAsync("privacy", "cancel", id);
        var approve = await officer.RunAsync("privacy", "approve", id);
        var retry = await officer.RunAsync("privacy", "retry", id);
        var show = await person.RunAsync("privacy", "show", id, "-o", "json");

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains($"Cancelled erasure {id}.", cancel.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, approve.ExitCode);
        Assert.Contains("The request is Cancelled", approve.Error, StringComparison.Ordinal);
        Assert.Contains("only a pending erasure can be approved", approve.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, retry.ExitCode);
        Assert.Contains("only a failed request can be retried", retry.Error, StringComparison.Ordinal);
        Assert.Equal(PrivacyRequestStatuses.Cancelled, show.Json<PrivacyRequestResource>().Status);
    }

    [Fact]
    public async Task The_officer_lists_everyone_s_requests_and_a_person_only_their_own_without_identifiers()
    {
        using var person = new CliUser(server.Url);
        await person.LoginAsync(DemoAccounts.LabUser1.Email);
        using var other = new CliUser(server.Url);
        await other.LoginAsync(DemoAccounts.Operator.Email);
        using var officer = new CliUser(server.Url);
        await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email);

        var mineFiled = await person.RunAsync("privacy", "export", "--no-wait");
        var otherFiled = await other.RunAsync("privacy", "export", "--no-wait");
        var mine = mineFiled.Out.Trim();
        var theirs = otherFiled.Out.Trim();
        var all = await officer.RunAsync("privacy", "requests");
        var officerOwn = await officer.RunAsync("privacy", "requests", "--mine");
        var own = await person.RunAsync("privacy", "requests");
        var badStatus = await person.RunAsync("privacy", "requests", "--status", "Sleeping");
        var peek = await person.RunAsync("privacy", "show", theirs);

        Assert.True(Guid.TryParse(mine, out _), mineFiled.ToString());
        Assert.True(Guid.TryParse(theirs, out _), otherFiled.ToString());
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Matches(@"^Id +Type +Status +Approval +Received +Due +Overdue$", all.Out.Split('\n')[0]);
        Assert.Contains(mine, all.Out, StringComparison.Ordinal);
        Assert.Contains(theirs, all.Out, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^{mine} +export +\w+ +NotNeeded +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ +\d{{4}}-\d\d-\d\d", all.Out);
        Assert.DoesNotContain(mine, officerOwn.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs, officerOwn.Out, StringComparison.Ordinal);
        Assert.True(own.ExitCode == 0, own.ToString());
        Assert.Contains(mine, own.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(theirs, own.Out, StringComparison.Ordinal);
        foreach (var printed in new[] { all.Out, own.Out })
        {
            Assert.DoesNotContain("@lethe.demo", printed, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(DemoAccounts.LabUser1.ObjectId.ToString(), printed, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(DemoAccounts.Operator.ObjectId.ToString(), printed, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Equal(ExitCodes.Failed, badStatus.ExitCode);
        Assert.Contains("status is one of", badStatus.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, peek.ExitCode);
        Assert.Contains("The privacy request was not found, or you have no access to it.", peek.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_ID_that_is_not_a_GUID_gets_a_clear_message()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);

        var show = await user.RunAsync("privacy", "show", "labuser1@lethe.demo");
        var approve = await user.RunAsync("privacy", "approve", "42");
        var unknown = await user.RunAsync("privacy", "cancel", Guid.NewGuid().ToString());

        Assert.Equal(ExitCodes.Usage, show.ExitCode);
        Assert.Contains("A request ID is a GUID", show.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("labuser1@lethe.demo", show.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, approve.ExitCode);
        Assert.Equal(ExitCodes.Failed, unknown.ExitCode);
        Assert.Contains("not found", unknown.Error, StringComparison.Ordinal);
    }

    /// The first request ID a command printed.
    internal static string IdIn(string output)
        => IdPattern().Match(output) is { Success: true } match ? match.Value : throw new InvalidOperationException("No request ID in: " + output);

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex IdPattern();

    /// Copies a zip entry by entry, letting <paramref name="change"/> alter an entry's bytes, and adds <paramref name="added"/>.
    private static async Task RewriteAsync(string source, string target, Action<string, byte[]> change, params (string Name, byte[] Content)[] added)
    {
        var ct = TestContext.Current.CancellationToken;
        using var input = ZipFile.OpenRead(source);
        await using var output = await ZipFile.OpenAsync(target, ZipArchiveMode.Create, ct);
        foreach (var entry in input.Entries)
        {
            using var buffer = new MemoryStream();
            await using (var read = entry.Open())
            {
                await read.CopyToAsync(buffer, ct);
            }
            var content = buffer.ToArray();
            change(entry.FullName, content);
            await WriteEntryAsync(output, entry.FullName, content, ct);
        }
        foreach (var (name, content) in added)
        {
            await WriteEntryAsync(output, name, content, ct);
        }
    }

    private static async Task WriteEntryAsync(ZipArchive zip, string name, byte[] content, CancellationToken ct)
    {
        await using var write = zip.CreateEntry(name).Open();
        await write.WriteAsync(content, ct);
    }

    private sealed record VerifyReport(int Files, long Bytes, Guid? RequestId, bool IsValid, IReadOnlyList<string> Problems);
}
