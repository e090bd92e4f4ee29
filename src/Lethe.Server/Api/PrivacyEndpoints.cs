using Lethe.Client;
using Lethe.Privacy;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Api;

public static class PrivacyEndpoints
{
    public static void MapPrivacyEndpoints(this WebApplication app)
    {
        var privacy = app.MapGroup("/privacy").RequireAuthorization().WithTags("Privacy");
        privacy.MapGet("/map", GetMap).WithName("GetPersonalDataMap");
    }

    /// Every declared location of personal data: tables from the EF model, blob prefixes from the modules.
    public static Ok<PersonalDataMapResponse> GetMap(PersonalDataMap map)
        => TypedResults.Ok(new PersonalDataMapResponse(map.Locations.Select(l => new PersonalDataLocationResponse(
            l.Module, l.Kind, l.Name, l.Strategy.ToString(), l.RetentionDays, l.RetentionSetting, l.Reason,
            l.Fields.Select(f => new PersonalFieldResponse(f.Name, f.Category.ToString(), f.Subject.ToString(), f.IsSubjectKey, f.Export.ToString(), f.IsName)).ToList())
        {
            Phase = l.Phase,
            Sweep = l.Sweep,
        }).ToList()));

    /// The map is built once from the runtime model the server already has: the declarations it reads (attributes on
    /// the CLR properties, tables, indexes, foreign keys) are all there, and building the design-time model as well
    /// cost every start a second model (decision 0090; PersonalDataMapTests checks that both give the same map).
    public static IServiceCollection AddPersonalDataMap(this IServiceCollection services)
        => services.AddScoped<PersonalDataSources>().AddSingleton(sp =>
        {
            using var scope = sp.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            return PersonalDataMap.Build(db.Model, sp.GetServices<PersonalBlobLocation>());
        });
}
