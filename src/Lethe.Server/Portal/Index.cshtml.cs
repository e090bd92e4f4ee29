using Lethe.Identity;
using Lethe.Resources;
using Lethe.Server.Portal.Account;
using Lethe.Server.Portal.Shared;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal;

public sealed record RoleAtScope(string Role, string Scope, string AppliesTo);

/// Home: who you are here, what you may do where, and what you can see.
public sealed class IndexModel(LetheDb db, SignInManager<LetheUser> signIn) : PageModel
{
    public string DisplayName { get; private set; } = "";
    public IReadOnlyList<RoleAtScope> Roles { get; private set; } = [];
    public VisibleScopes Scopes { get; private set; } = new([], false);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var id = User.ObjectId();
        var user = await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => new { u.DisplayName }).FirstOrDefaultAsync(ct);
        if (user is null)
        {
            return await this.EndSessionAsync(signIn);
        }
        DisplayName = user.DisplayName;
        Scopes = await VisibleScopes.LoadAsync(db, id, ct);
        var names = Scopes.Subscriptions.ToDictionary(s => s.Subscription.Id, s => s.Subscription.DisplayName);
        var assignments = await db.RolesOf(id).Select(a => new { a.Scope, a.Role }).ToListAsync(ct);
        Roles = assignments.Select(a => new RoleAtScope(RoleName(a.Role), a.Scope, AppliesTo(ResourceId.Parse(a.Scope), names))).ToList();
        return Page();
    }

    public static string RoleName(Role role) => role switch
    {
        Role.LabUser => "Lab user",
        Role.PrivacyOfficer => "Privacy officer",
        _ => role.ToString(),
    };

    /// The scope in words: a subscription by its name where the user can see it, a resource group by its name.
    public static string AppliesTo(ResourceId scope, IReadOnlyDictionary<Guid, string> subscriptionNames)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(subscriptionNames);
        if (scope.IsRoot)
        {
            return "The whole deployment";
        }
        var subscription = subscriptionNames.TryGetValue(scope.SubscriptionId!.Value, out var name) ? name : scope.SubscriptionId.Value.ToString();
        return scope.IsSubscription ? $"Subscription {subscription}"
            : scope.IsResourceGroup ? $"Resource group {scope.ResourceGroup} in {subscription}"
            : $"{scope.ResourceType} {scope.Name} in {scope.ResourceGroup ?? subscription}";
    }
}
