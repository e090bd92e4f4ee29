namespace Lethe.Blobs;

/// Decision 0071: a blob write loses to a delete of its owner that reported success first. The write puts
/// its blob and only then asks whether its owner is still the one it wrote for (a fresh read of the owner's
/// row); when not, it removes what it wrote and reports failure. The delete, for its part, marks or removes
/// its owner row before its last sweep of the owner's blobs. So either the check ran before the mark, the
/// put was complete by then and the delete's sweep removes it; or the check sees the mark and the write
/// removes its own blob. Nothing the delete removed can reappear once both have ended.
public static class BlobFence
{
    /// Puts the blob, then keeps it only if <paramref name="ownerIsLive"/> still holds; false when the owner was
    /// deleted meanwhile (the blob is gone again). The check and the clean-up ignore the request's
    /// cancellation: once the put is done they must run, or a blob of a deleted owner could stay.
    public static async Task<bool> PutAsync(
        IBlobStore blobs, string container, string name, Stream content, string? contentType,
        Func<CancellationToken, Task<bool>> ownerIsLive, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(ownerIsLive);
        await blobs.PutAsync(container, name, content, contentType, ct);
        if (await ownerIsLive(CancellationToken.None))
        {
            return true;
        }
        await blobs.PurgeAsync(container, name, CancellationToken.None);
        return false;
    }
}
