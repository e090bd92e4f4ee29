using Lethe.Blobs;
using Lethe.Blobs.Azure;
using Lethe.Gallery;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Privacy.Requests;
using Lethe.Resources;
using Lethe.Workspaces;

namespace Lethe.Server.Hosting;

internal static class Work
{
    /// Every server process runs job workers (adding a node adds capacity); each module registers
    /// the handlers of its long work here.
    public static void AddLetheWork(this WebApplicationBuilder builder)
    {
        builder.Services.AddLetheJobs(builder.Configuration);
        builder.Services.AddGallery(builder.Configuration);
        builder.Services.AddScoped<IJobHandler, DeleteResourceGroup>();
        builder.Services.AddScoped<IJobHandler, PurgeExpiredBlobs>();
        builder.Services.AddScoped<IJobHandler, PurgeOrphanBlobs>();
        builder.Services.AddLetheWorkspaces(builder.Configuration);
        builder.Services.AddLabs(builder.Configuration).AddSingleton<ISasContainerWriter, SasContainerWriter>();
        builder.Services.AddPrivacyRequests(builder.Configuration);
    }
}
