using Lethe.Gallery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Gallery;

/// Seed 000: "The profile page displays all items published to the Gallery, including unlisted entries",
/// at an address that carries the author ID (`?authorId=...`). Others see the public items only.
public sealed class ProfileModel(GalleryCatalog catalog, GalleryWrites writes) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? AuthorId { get; set; }

    public CatalogProfile? Profile { get; private set; }
    public CatalogState? State { get; private set; }
    public IReadOnlyList<CatalogItem> Items { get; private set; } = [];
    public bool IsOwn { get; private set; }
    public string? NewToken { get; private set; }
    public DateTimeOffset? TokenExpiresAt { get; private set; }
    public string? Message { get; private set; }

    /// The signed-in person looking at their own profile before they have one.
    public bool OwnWithoutProfile { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(AuthorId))
        {
            // The profile link without an ID is the signed-in user's own profile.
            var me = await writes.FindAuthorAsync(User.ObjectId(), ct);
            if (me is not null)
            {
                return RedirectToPage(new { authorId = me.Id });
            }
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostTokenAsync(CancellationToken ct)
    {
        var (outcome, token) = await writes.IssueTokenAsync(User.ObjectId(), ct);
        if (outcome != WriteOutcome.Done)
        {
            return BadRequest();
        }
        await LoadAsync(ct);
        NewToken = token!.Token;
        TokenExpiresAt = token.ExpiresAt;
        // The page holds a credential: no cache may keep it.
        Response.Headers.CacheControl = "no-store";
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(CancellationToken ct)
    {
        var revoked = await writes.RevokeTokensAsync(User.ObjectId(), ct);
        await LoadAsync(ct);
        Message = revoked == 1 ? "Your token is revoked." : $"{revoked} tokens are revoked.";
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var mine = await writes.FindAuthorAsync(User.ObjectId(), ct);
        OwnWithoutProfile = AuthorId is null && mine is null;
        AuthorId ??= mine?.Id;
        State = await catalog.FreshAsync(ct);
        // Someone else's profile is public only from their first published item on.
        if (AuthorId is null || !State.Authors.TryGetValue(AuthorId, out var profile) || (profile.ContributedAt is null && mine?.Id != profile.Id))
        {
            return;
        }
        Profile = profile;
        IsOwn = mine?.Id == profile.Id;
        var items = State.ByAuthor.TryGetValue(profile.Id, out var list) ? list : [];
        Items = items.Where(i => CatalogListing.IsVisible(i, IsOwn ? profile.Id : null)).ToList();
        if (IsOwn)
        {
            TokenExpiresAt = await writes.LiveTokenExpiryAsync(profile.Id, ct);
        }
    }
}
