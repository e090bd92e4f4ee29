using System.CommandLine;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe subscription list|show|create`.
internal static class SubscriptionCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var list = new Command("list", "List the subscriptions you can see").With(options.Server, options.Output);
        list.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var subscriptions = await connection.Client.ListSubscriptionsAsync(ct).ToListAsync(ct);
            await WriteAsync(run, subscriptions, "No subscriptions.");
            return ExitCodes.Success;
        });

        var id = new Argument<string>("ID") { Description = "The subscription ID (a GUID)" };
        var show = new Command("show", "Show one subscription") { id }.With(options.Server, options.Output);
        show.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var subscription = await connection.Client.SendAsync<SubscriptionResource>(HttpMethod.Get, $"subscriptions/{Invocation.Segment(run.Value(id)!)}", null, ct);
            await WriteAsync(run, [subscription], null);
            return ExitCodes.Success;
        });

        var newId = new Option<string?>("--id") { Description = "The new subscription's ID (a GUID) [default: a new one]", HelpName = "GUID" };
        var name = new Option<string>("--name") { Description = "Its display name", Required = true, HelpName = "NAME" };
        var create = new Command("create", "Create a subscription, or rename an existing one (root Owner only)").With(newId, name, options.Server, options.Output);
        create.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var subscriptionId = run.Value(newId) ?? Guid.NewGuid().ToString("D");
            var subscription = await connection.Client.SendAsync<SubscriptionResource>(
                HttpMethod.Put, $"subscriptions/{Invocation.Segment(subscriptionId)}", new CreateSubscriptionRequest(run.Value(name)!), ct);
            await WriteAsync(run, [subscription], null);
            return ExitCodes.Success;
        });

        return Cli.Group("subscription", "Subscriptions: the top of the resource hierarchy", list, show, create);
    }

    private static async Task WriteAsync(Invocation run, List<SubscriptionResource> subscriptions, string? none)
    {
        if (run.Json)
        {
            await (subscriptions.Count == 1 && none is null ? run.WriteJsonAsync(subscriptions[0]) : run.WriteJsonAsync(subscriptions));
            return;
        }
        if (subscriptions.Count == 0 && none is not null)
        {
            await run.WriteNothingAsync(none);
            return;
        }
        var table = Invocation.Table("Subscription ID", "Display name", "State");
        foreach (var s in subscriptions)
        {
            Invocation.AddRow(table, s.SubscriptionId.ToString("D"), s.DisplayName, s.State);
        }
        run.Write(table);
    }
}
