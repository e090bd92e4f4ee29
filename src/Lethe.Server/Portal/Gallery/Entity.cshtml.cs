using Lethe.Gallery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Gallery;

/// One item; its author changes or unpublishes it here. An unlisted item is not found for anyone else.
public sealed class EntityModel(GalleryCatalog catalog, GalleryWrites writes) : PageModel
{
    [FromRoute]
    public Guid Id { get; set; }

    [BindProperty]
    public EntityForm Form { get; set; } = new();

    public CatalogItem? Item { get; private set; }
    public CatalogState? State { get; private set; }
    public bool IsOwn { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Item is not null && IsOwn)
        {
            Form = new EntityForm { Kind = Item.Kind, Name = Item.Name, Description = Item.Description, Tags = string.Join(", ", Item.Tags), Visibility = Item.Visibility };
        }
        Form.Handler = "Change";
        Form.Submit = "Save changes";
        return Item is null ? NotFoundPage() : Page();
    }

    public async Task<IActionResult> OnPostChangeAsync(CancellationToken ct)
    {
        Form.Handler = "Change";
        Form.Submit = "Save changes";
        if (!Form.Validate())
        {
            await LoadAsync(ct);
            return Item is null ? NotFoundPage() : Page();
        }
        var (outcome, _) = await writes.ChangeAsync(User.ObjectId(), Id, new EntityChange(Form.Kind, Form.Name, Form.Description ?? "", Form.TagList(), Form.Visibility), ct);
        if (outcome != WriteOutcome.Done)
        {
            await LoadAsync(ct);
            return NotFoundPage();
        }
        return RedirectToPage(new { id = Id });
    }

    public async Task<IActionResult> OnPostUnpublishAsync(CancellationToken ct)
    {
        var me = await writes.FindAuthorAsync(User.ObjectId(), ct);
        var outcome = await writes.UnpublishAsync(User.ObjectId(), Id, ct);
        if (outcome != WriteOutcome.Done)
        {
            await LoadAsync(ct);
            return NotFoundPage();
        }
        return Redirect($"~/gallery/profile?authorId={me!.Id}");
    }

    private PageResult NotFoundPage()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var me = await writes.FindAuthorAsync(User.ObjectId(), ct);
        State = await catalog.FreshAsync(ct);
        Item = CatalogListing.Find(State, Id, me?.Id);
        IsOwn = Item is not null && me?.Id == Item.AuthorId;
    }
}
