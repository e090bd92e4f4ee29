using Lethe.Identity;
using Lethe.Resources;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Demo;

public sealed record DemoAccount(Guid ObjectId, string Email, string DisplayName, string Purpose);

/// `lethe serve --demo`: the accounts listed in the README, one password for all, and the
/// subscription and resource groups they work in. Deterministic: the same IDs on every machine.
public static class DemoAccounts
{
    public const string Password = "Lethe-demo-2026!";

    public static readonly Guid SubscriptionId = Guid.Parse("5c9d3b7e-1f2a-4c6d-9e8b-0a1b2c3d4e5f");
    public const string MlResourceGroup = "ml-rg";
    public const string LabsResourceGroup = "labs-rg";

    public static readonly DemoAccount Operator = new(Guid.Parse("00000000-0000-4000-8000-000000000001"), "operator@lethe.demo", "Olivia Operator", "Owner of the whole deployment");
    public static readonly DemoAccount PrivacyOfficer = new(Guid.Parse("00000000-0000-4000-8000-000000000002"), "privacy@lethe.demo", "Pat Privacy", "Privacy officer: handles subject requests");
    public static readonly DemoAccount WorkspaceOwner = new(Guid.Parse("00000000-0000-4000-8000-000000000003"), "owner@lethe.demo", "Wendy Owner", "Owner of the demo subscription");
    public static readonly DemoAccount Contributor = new(Guid.Parse("00000000-0000-4000-8000-000000000004"), "contributor@lethe.demo", "Carl Contributor", "Contributor on ml-rg");
    public static readonly DemoAccount GalleryAuthor = new(Guid.Parse("00000000-0000-4000-8000-000000000005"), "author@lethe.demo", "First Last", "Gallery author");
    public static readonly DemoAccount LabAdmin = new(Guid.Parse("00000000-0000-4000-8000-000000000006"), "labadmin@lethe.demo", "Liam Labadmin", "Owner of labs-rg (lab admin)");
    public static readonly DemoAccount LabUser1 = new(Guid.Parse("00000000-0000-4000-8000-000000000007"), "labuser1@lethe.demo", "Lana Labuser", "Lab user on labs-rg");
    public static readonly DemoAccount LabUser2 = new(Guid.Parse("00000000-0000-4000-8000-000000000008"), "labuser2@lethe.demo", "Leo Labuser", "Lab user on labs-rg");

    public static IReadOnlyList<DemoAccount> All { get; } = [Operator, PrivacyOfficer, WorkspaceOwner, Contributor, GalleryAuthor, LabAdmin, LabUser1, LabUser2];

    /// Creates what is missing; an existing database keeps its data (the demo never overwrites).
    public static async Task EnsureAsync(LetheDb db, UserManager<LetheUser> users, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        foreach (var account in All)
        {
            if (await users.FindByIdAsync(account.ObjectId.ToString()) is null)
            {
                var user = new LetheUser { Id = account.ObjectId, UserName = account.Email, Email = account.Email, EmailConfirmed = true, DisplayName = account.DisplayName, CreatedAt = now };
                var result = await users.CreateAsync(user, Password);
                if (!result.Succeeded)
                {
                    throw new InvalidOperationException("Creating a demo account failed: " + string.Join("; ", result.Errors.Select(e => e.Code)));
                }
            }
        }

        if (!await db.Subscriptions.AnyAsync(s => s.Id == SubscriptionId, ct))
        {
            db.Subscriptions.Add(new Subscription { Id = SubscriptionId, DisplayName = "Contoso Research", CreatedAt = now });
            foreach (var (name, location) in new[] { (MlResourceGroup, "westeurope"), (LabsResourceGroup, "northeurope") })
            {
                db.ResourceGroups.Add(new ResourceGroup { SubscriptionId = SubscriptionId, Name = name, NameKey = name, Location = location, CreatedAt = now });
            }
            var subscription = ResourceId.ForSubscription(SubscriptionId);
            var ml = ResourceId.ForResourceGroup(SubscriptionId, MlResourceGroup);
            var labs = ResourceId.ForResourceGroup(SubscriptionId, LabsResourceGroup);
            db.RoleAssignments.AddRange(
                RoleAssignment.Create(ResourceId.Root, Operator.ObjectId, Role.Owner, now),
                RoleAssignment.Create(ResourceId.Root, PrivacyOfficer.ObjectId, Role.PrivacyOfficer, now),
                RoleAssignment.Create(subscription, WorkspaceOwner.ObjectId, Role.Owner, now),
                RoleAssignment.Create(ml, Contributor.ObjectId, Role.Contributor, now),
                RoleAssignment.Create(ml, GalleryAuthor.ObjectId, Role.Reader, now),
                RoleAssignment.Create(labs, LabAdmin.ObjectId, Role.Owner, now),
                RoleAssignment.Create(labs, LabUser1.ObjectId, Role.LabUser, now),
                RoleAssignment.Create(labs, LabUser2.ObjectId, Role.LabUser, now));
            await db.SaveChangesAsync(ct);
        }
    }
}
