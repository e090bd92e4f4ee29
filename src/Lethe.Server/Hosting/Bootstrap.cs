using Lethe.Demo;
using Lethe.Identity;
using Lethe.Resources;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Hosting;

/// Settings for what a first start creates.
public sealed class BootstrapOptions
{
    public const string Section = "Lethe";

    /// The operator account: made at first start when both are set (`--admin-email`, `--admin-password`,
    /// or Lethe__AdminEmail / Lethe__AdminPassword in the environment).
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }

    /// `--demo`: demo accounts and a demo data set in an empty database.
    public bool Demo { get; set; }
}

internal static partial class Bootstrap
{
    public static async Task RunAsync(IServiceProvider services, CancellationToken ct)
    {
        var options = services.GetRequiredService<IConfiguration>().GetSection(BootstrapOptions.Section).Get<BootstrapOptions>() ?? new();
        var db = services.GetRequiredService<LetheDb>();
        var users = services.GetRequiredService<UserManager<LetheUser>>();
        var clock = services.GetRequiredService<TimeProvider>();
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Lethe.Bootstrap");

        // The personal-data map is executable or the server does not start: every location has exactly one source,
        // every subject key an index, every retain-then-anonymize location its sweep.
        var sources = services.GetRequiredService<Lethe.Privacy.PersonalDataSources>();
        var problems = sources.Map.ProblemsWith(sources.Custom.Select(s => s.Location), services.GetServices<Lethe.Jobs.IJobHandler>().Select(h => h.Kind));
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The personal-data map has problems, so Lethe does not start: " + string.Join(" ", problems));
        }

        // The author-ID secret is made at first start, before anyone can publish.
        await DeploymentSecret.GetOrCreateAsync(db, DeploymentSecret.AuthorIdKey, clock, ct);
        // So is the data-protection secret, so that the first request does not race to make it.
        await DeploymentSecret.GetOrCreateAsync(db, DeploymentSecret.DataProtectionKey, clock, ct);
        // And the privacy requests' subject-hash secret: an erasure (or its dry run) asks for every hash of the
        // person before any request may have been filed, and a dry run must not write.
        await DeploymentSecret.GetOrCreateAsync(db, Lethe.Privacy.Requests.SubjectHashes.SecretName, clock, ct);

        if (!string.IsNullOrWhiteSpace(options.AdminEmail) && !string.IsNullOrEmpty(options.AdminPassword))
        {
            await EnsureOperatorAsync(db, users, options.AdminEmail, options.AdminPassword, clock, log, ct);
        }
        if (options.Demo)
        {
            await DemoAccounts.EnsureAsync(db, users, clock, ct);
            foreach (var content in services.GetServices<IDemoContent>().OrderBy(c => c.Order))
            {
                await content.EnsureAsync(services, ct);
            }
            LogDemo(log, DemoAccounts.All.Count);
        }
    }

    private static async Task EnsureOperatorAsync(LetheDb db, UserManager<LetheUser> users, string email, string password, TimeProvider clock, ILogger log, CancellationToken ct)
    {
        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            user = new LetheUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = "Operator", CreatedAt = clock.GetUtcNow() };
            var created = await users.CreateAsync(user, password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException("The operator account could not be created: " + string.Join(" ", created.Errors.Select(e => e.Description)));
            }
            LogOperatorCreated(log, user.Id);
        }
        var root = ResourceId.Root.Key;
        if (!await db.RoleAssignments.AnyAsync(a => a.PrincipalId == user.Id && a.ScopeKey == root && a.Role == Role.Owner, ct))
        {
            db.RoleAssignments.Add(RoleAssignment.Create(ResourceId.Root, user.Id, Role.Owner, clock.GetUtcNow()));
            await db.SaveChangesAsync(ct);
        }
    }

    [LoggerMessage(LogLevel.Information, "Created the operator account {ObjectId} with the Owner role at the root scope")]
    private static partial void LogOperatorCreated(ILogger log, Guid objectId);

    [LoggerMessage(LogLevel.Information, "Demo mode: {Count} demo accounts are ready (see the README)")]
    private static partial void LogDemo(ILogger log, int count);
}
