using Azure.Storage.Blobs;
using Lethe.Testing;
using Lethe.Tests.Blobs;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Blobs.Azure.Tests;

/// The shared behaviour against Azurite, plus what is particular to Azure.
[Collection(nameof(BlobStoresInSeries))]
public sealed class AzureBlobStoreTests : BlobStoreContract
{
    private bool used;

    protected override IBlobStore CreateStore(BlobOptions options, TimeProvider time)
    {
        used = true;
        return new AzureBlobStore(TestEnvironment.Azurite, options, time);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!used)
        {
            return;
        }

        var service = Azurite();
        await foreach (var container in service.GetBlobContainersAsync(prefix: Options.ContainerPrefix, cancellationToken: default))
        {
            await service.DeleteBlobContainerAsync(container.Name);
        }
    }

    // The store's service version: an unpinned client speaks one that Azurite may refuse.
    private static BlobServiceClient Azurite() => new(TestEnvironment.Azurite, new BlobClientOptions(AzureBlobStore.ServiceVersion));

    [Fact]
    public async Task Containers_carry_the_configured_prefix()
    {
        await PutTextAsync("x", "x");

        var service = Azurite();
        var names = await service.GetBlobContainersAsync(prefix: Options.ContainerPrefix, cancellationToken: Ct).Select(c => c.Name).ToListAsync(Ct);
        Assert.Equal([Options.ContainerPrefix + Container], names);
    }

    [Fact]
    public async Task A_tombstone_is_the_blob_itself_flagged_by_metadata()
    {
        await PutTextAsync("x", "kept while soft-deleted");
        await Store.SoftDeleteAsync(Container, "x", Ct);

        var blob = Azurite()
            .GetBlobContainerClient(Options.ContainerPrefix + Container).GetBlobClient("x");
        var properties = (await blob.GetPropertiesAsync(cancellationToken: Ct)).Value;
        Assert.Equal(Start.ToString("O", System.Globalization.CultureInfo.InvariantCulture), properties.Metadata["lethedeletedat"]);
        Assert.Equal("kept while soft-deleted", (await blob.DownloadContentAsync(Ct)).Value.Content.ToString());
    }

    [Fact]
    public async Task The_registration_provides_the_azure_store()
    {
        var options = new BlobOptions { Provider = BlobProvider.Azure, ConnectionString = TestEnvironment.Azurite, ContainerPrefix = Options.ContainerPrefix };
        await using var services = new ServiceCollection().AddSingleton<TimeProvider>(Time).AddLetheAzureBlobs(options).BuildServiceProvider();

        var store = Assert.IsType<AzureBlobStore>(services.GetRequiredService<IBlobStore>());
        await store.CheckHealthAsync(Ct);
        Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddLetheAzureBlobs(new BlobOptions()));
    }

    [Fact]
    public async Task The_health_check_fails_when_storage_is_unreachable()
    {
        // Nothing listens on the discard port.
        const string unreachable = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
            + "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;";
        var store = new AzureBlobStore(unreachable, Options, Time);

        await Assert.ThrowsAnyAsync<Exception>(() => store.CheckHealthAsync(Ct));
    }

    [Fact]
    public void The_client_is_pinned_to_a_service_version_that_azurite_serves()
        => Assert.True(AzureBlobStore.ServiceVersion <= BlobClientOptions.ServiceVersion.V2025_01_05);
}
