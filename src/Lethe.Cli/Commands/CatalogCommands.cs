using System.CommandLine;
using System.Globalization;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe catalog user|entities|token|revoke|publish|unpublish`: the gallery's Catalog API (seed 000).
internal static class CatalogCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var authorId = new Argument<string>("AUTHORID") { Description = "The author ID: 64 hex digits, as in the profile page's address" };
        var user = new Command("user", "Show an author's public profile") { authorId }.With(options.Server, options.Output);
        user.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: false, ct);
            var profile = await connection.Client.GetCatalogUserAsync(run.Value(authorId)!.Trim(), ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(profile);
                return ExitCodes.Success;
            }
            run.Write(Invocation.Details(
                ("Author ID", profile.Id),
                ("Name", profile.Name),
                ("Entities", profile.EntitiesCount.ToString(CultureInfo.InvariantCulture)),
                ("Score", profile.ContributionScore.ToString("0.##", CultureInfo.InvariantCulture)),
                ("Contributed", profile.ContributedAt?.ToString("u", CultureInfo.InvariantCulture)),
                ("Created", profile.CreatedAt.ToString("u", CultureInfo.InvariantCulture))));
            return ExitCodes.Success;
        });

        var filter = new Option<string?>("--filter") { Description = "An OData $filter, e.g. \"author/id eq '...'\"", HelpName = "FILTER" };
        var orderBy = new Option<string?>("--orderby") { Description = "An OData $orderby, e.g. \"created_at desc\"", HelpName = "ORDER" };
        var top = new Option<int?>("--top") { Description = "At most this many entities (1 to 1000) [default: all, page by page]", HelpName = "N" };
        var token = new Option<string?>("--token") { Description = "A Catalog API access token, to see your unlisted entities too [default: when logged in, your token, kept beside your login and renewed when it nears expiry]", HelpName = "TOKEN" };
        var entities = new Command("entities", "List gallery entities through the Catalog API").With(filter, orderBy, top, token, options.Server, options.Output);
        entities.Handle(terminal, options, async (run, ct) =>
        {
            var (connection, catalogToken, cached) = await ConnectForCatalogAsync(run, run.Value(token), fresh: false, ct);
            var query = new CatalogQueryOptions(run.Value(filter), run.Value(orderBy), Top: run.Value(top));
            async Task<List<CatalogEntity>> ListAsync(ServerConnection c, string? t) => run.Value(top) is null
                ? await c.Client.ListCatalogEntitiesAsync(query, t, ct).ToListAsync(ct)
                : [.. (await c.Client.QueryCatalogEntitiesAsync(query, t, ct)).Value];
            List<CatalogEntity> items;
            try
            {
                items = await ListAsync(connection, catalogToken);
            }
            catch (LetheUnauthorizedException) when (cached)
            {
                // The cached token was revoked meanwhile: one new token, one retry.
                connection.Dispose();
                (connection, catalogToken, _) = await ConnectForCatalogAsync(run, null, fresh: true, ct);
                items = await ListAsync(connection, catalogToken);
            }
            catch (LetheUnauthorizedException e) when (catalogToken is not null)
            {
                // The access token, not the login, was refused: say which way (expired, revoked, malformed).
                connection.Dispose();
                throw new CliException(ExitCodes.NotLoggedIn, $"{e.Title} {e.Detail}", "Get a new one with `lethe catalog token`.", e);
            }
            using (connection)
            {
                if (run.Json)
                {
                    await run.WriteJsonAsync(items);
                    return ExitCodes.Success;
                }
                if (items.Count == 0)
                {
                    await run.WriteNothingAsync("No entities.");
                    return ExitCodes.Success;
                }
                var table = Invocation.Table("ID", "Kind", "Name", "Visibility", "Tags", "Created");
                foreach (var e in items)
                {
                    Invocation.AddRow(table, e.Id.ToString("D"), e.Kind, e.Name, e.Visibility, string.Join(", ", e.Tags), e.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
                }
                run.Write(table);
                return ExitCodes.Success;
            }
        });

        var tokenCommand = new Command("token", "Print a new Catalog API access token for the DataLabAccessToken header").With(options.Server, options.Output);
        tokenCommand.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var issued = await connection.Client.CreateCatalogTokenAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(issued);
            }
            else
            {
                // The token alone on stdout, for `$(lethe catalog token)`; the expiry goes to stderr.
                await run.WriteLineAsync(issued.Token);
                await terminal.Error.WriteLineAsync($"Expires {issued.ExpiresAt.ToString("u", CultureInfo.InvariantCulture)}.");
            }
            return ExitCodes.Success;
        });

        var revoke = new Command("revoke", "Revoke all your Catalog API access tokens").With(options.Server);
        revoke.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await connection.Client.RevokeCatalogTokensAsync(ct);
            await run.WriteLineAsync("Your Catalog API access tokens are revoked.");
            return ExitCodes.Success;
        });

        var kind = new Option<string>("--kind") { Description = "Solution, Project, Experiment, Notebook, Tutorial, Collection, CustomModule or Competition", Required = true, HelpName = "KIND" };
        var name = new Option<string>("--name") { Description = "The item's name", Required = true, HelpName = "NAME" };
        var description = new Option<string?>("--description") { Description = "What it is", HelpName = "TEXT" };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeat for more)", HelpName = "TAG", AllowMultipleArgumentsPerToken = false };
        var unlisted = new Option<bool>("--unlisted") { Description = "Publish as Unlisted: only you see it [default: Public]" };
        var publish = new Command("publish", "Publish an item to the gallery").With(kind, name, description, tags, unlisted, options.Server, options.Output);
        publish.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var item = await connection.Client.PublishEntityAsync(new PublishEntityRequest(run.Value(kind)!, run.Value(name)!, run.Value(description), run.Value(tags), run.Value(unlisted) ? "Unlisted" : "Public"), ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(item);
            }
            else
            {
                await run.WriteLineAsync($"Published {item.Kind} {item.Id:D} ({item.Visibility}).");
            }
            return ExitCodes.Success;
        });

        var id = new Argument<string>("ID") { Description = "The item's ID (a GUID)" };
        var unpublish = new Command("unpublish", "Remove one of your items from the gallery") { id }.With(options.Server);
        unpublish.Handle(terminal, options, async (run, ct) =>
        {
            if (!Guid.TryParse(run.Value(id), out var entityId))
            {
                throw CliException.Usage("ID is a GUID, as `lethe catalog entities` shows it.");
            }
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            await connection.Client.UnpublishEntityAsync(entityId, ct);
            await run.WriteLineAsync($"Unpublished {entityId:D}.");
            return ExitCodes.Success;
        });

        return Cli.Group("catalog", "The gallery's Catalog API: profiles, entities, access tokens", user, entities, tokenCommand, revoke, publish, unpublish);
    }

    /// With --token: anonymous plus that token. Without: when logged in, the signed-in user's token (so their unlisted
    /// entities show), kept beside the login in the credentials file and reused until it is about to expire; otherwise
    /// anonymous, public entities only. Cached says the token came from the file.
    private static async Task<(ServerConnection Connection, string? Token, bool Cached)> ConnectForCatalogAsync(Invocation run, string? token, bool fresh, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(token))
        {
            return (await run.ConnectAsync(signedIn: false, ct), token.Trim(), false);
        }
        ServerConnection signedIn;
        try
        {
            signedIn = await run.ConnectAsync(signedIn: true, ct);
        }
        catch (CliException e) when (e.ExitCode == ExitCodes.NotLoggedIn)
        {
            return (await run.ConnectAsync(signedIn: false, ct), null, false);
        }
        var store = CredentialStore.For(run.Terminal);
        if (!fresh && (await store.LoadAsync(ct))?.LiveCatalogToken(run.Terminal.Clock) is { } live)
        {
            return (signedIn, live, true);
        }
        var issued = await signedIn.Client.CreateCatalogTokenAsync(ct);
        // Read again: the connection may have refreshed the login meanwhile.
        if (await store.LoadAsync(ct) is { } credentials)
        {
            await store.SaveAsync(credentials with { CatalogToken = issued.Token, CatalogTokenExpiresAt = issued.ExpiresAt }, ct);
        }
        return (signedIn, issued.Token, false);
    }
}
