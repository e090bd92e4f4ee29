using Lethe.Gallery;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Gallery;

/// Publishing an item. The first one makes the person's gallery profile public, so the page says what becomes public
/// (the name, the Author ID) and lets them choose the name first (issue 13: consent before anything becomes public).
public sealed class PublishModel(GalleryWrites writes, LetheDb db) : PageModel
{
    [BindProperty]
    public EntityForm Form { get; set; } = new();

    /// The name the profile will show: the account's display name, which this page can set before the first item.
    [BindProperty]
    public string? PublicName { get; set; }

    /// Whether the person has a gallery profile already (then its name is shown as it is).
    public bool HasProfile { get; private set; }

    public string? ProfileName { get; private set; }

    public string? NameError { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(overwriteName: true, ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(overwriteName: false, ct);
        var valid = Form.Validate();
        if (!HasProfile)
        {
            var name = PublicName?.Trim() ?? "";
            if (name.Length > IdentityEndpoints.MaxDisplayNameLength || name.Any(char.IsControl))
            {
                NameError = $"A name has at most {IdentityEndpoints.MaxDisplayNameLength} characters and no control characters.";
                return Page();
            }
            if (!valid)
            {
                return Page();
            }
            // The person chose this name on this page, knowing it becomes public: it is their display name from now on.
            var me = User.ObjectId();
            await db.Users.Where(u => u.Id == me).ExecuteUpdateAsync(s => s.SetProperty(u => u.DisplayName, name), ct);
        }
        else if (!valid)
        {
            return Page();
        }
        var (outcome, entity) = await writes.PublishAsync(User.ObjectId(), new PublishRequest(Form.Kind, Form.Name!, Form.Description, Form.TagList(), Form.Visibility), ct);
        if (outcome != WriteOutcome.Done)
        {
            Form.Error = "Your account has no email address, so it has no Author ID and cannot publish.";
            return Page();
        }
        return Redirect($"~/gallery/entities/{entity!.Id:D}");
    }

    private async Task LoadAsync(bool overwriteName, CancellationToken ct)
    {
        var me = User.ObjectId();
        var profile = await writes.FindAuthorAsync(me, ct);
        HasProfile = profile is not null;
        ProfileName = profile?.Name;
        if (overwriteName || PublicName is null)
        {
            PublicName = await db.Users.AsNoTracking().Where(u => u.Id == me).Select(u => u.DisplayName).FirstOrDefaultAsync(ct);
        }
    }
}
