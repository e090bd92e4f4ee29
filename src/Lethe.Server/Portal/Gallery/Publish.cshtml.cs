using Lethe.Gallery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Gallery;

public sealed class PublishModel(GalleryWrites writes) : PageModel
{
    [BindProperty]
    public EntityForm Form { get; set; } = new();

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!Form.Validate())
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
}
