using System.Net.Http.Json;
using System.Text.Json;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Labs;

/// The servers of the lab tests: notices go to the test SMTP server (maildev).
public sealed class LabServers : Servers
{
    public const string PublicUrl = "https://lethe.test";

    protected override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var (host, port) = SplitHostPort(TestEnvironment.Smtp);
            return new Dictionary<string, string?>
            {
                ["Lethe:Smtp:Host"] = host,
                ["Lethe:Smtp:Port"] = port,
                ["Lethe:Smtp:Security"] = "None",
                ["Lethe:Smtp:From"] = "labs@lethe.test",
                ["Lethe:Smtp:PublicUrl"] = PublicUrl,
            };
        }
    }

    private static (string Host, string Port) SplitHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return (value[..colon], value[(colon + 1)..]);
    }
}

/// A lab of its own: a subscription, a group, the lab, its admin (Owner on the group) and two lab users.
public sealed record LabSetup(Guid SubscriptionId, string Group, string Lab, LetheClient Admin, TestUser User1, TestUser User2, TestUser Stranger, LabResource Resource)
{
    public static async Task<LabSetup> CreateAsync(LetheHost host, CancellationToken ct, LabSettings? settings = null)
    {
        var (id, op) = await host.NewSubscriptionAsync(ct);
        const string group = "labs-rg";
        await op.CreateOrUpdateResourceGroupAsync(id, group, "northeurope", ct);
        var admin = await host.NewUserWithRoleAsync(op, Scenario.Scope(id, group), "Owner", ct);
        var user1 = await host.NewUserWithRoleAsync(op, Scenario.Scope(id, group), "LabUser", ct);
        var user2 = await host.NewUserWithRoleAsync(op, Scenario.Scope(id, group), "LabUser", ct);
        var stranger = await host.NewUserAsync(ct);
        var lab = await admin.Client.CreateOrUpdateLabAsync(id, group, "DevLab", new CreateLabRequest("northeurope", settings), ct);
        return new LabSetup(id, group, "DevLab", admin.Client, user1, user2, stranger, lab);
    }

    public static GalleryImageReferenceContract Ubuntu { get; } = new("Canonical", "ubuntu-24_04-lts", "server", "Linux", "latest");

    public Task<LabVirtualMachineResource> CreateVmAsync(LetheClient client, string name, CancellationToken ct, bool claimable = false, string? email = null, string tier = "Standard_B2s")
        => client.CreateLabVirtualMachineAsync(SubscriptionId, Group, Lab, name, new LabVirtualMachineCreateProperties(tier, Ubuntu, AllowClaim: claimable, NotificationEmail: email), ct);
}

/// Reads what maildev received.
public static class Maildev
{
    public static async Task<IReadOnlyList<JsonElement>> MessagesToAsync(string to, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = TestEnvironment.SmtpApi };
        var all = await http.GetFromJsonAsync<List<JsonElement>>("/api/email", ct) ?? [];
        return all.Where(m => m.GetProperty("to").EnumerateArray().Any(a => string.Equals(a.GetProperty("address").GetString(), to, StringComparison.OrdinalIgnoreCase))).ToList();
    }
}
