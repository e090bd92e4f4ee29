using Lethe.Resources;

namespace Lethe.Labs;

/// Resource IDs of what a lab holds, as Azure names them.
public static class LabNames
{
    public static ResourceId LabId(Guid subscriptionId, string resourceGroup, string lab)
        => ResourceId.ForResourceGroup(subscriptionId, resourceGroup).Child(Lab.ProviderNamespace, "labs", lab);

    /// The compute VM behind a lab VM: in the lab's resource group, as Microsoft.Compute names it.
    public static string ComputeResourceId(Lab lab, string vmName)
    {
        ArgumentNullException.ThrowIfNull(lab);
        return ResourceId.ForResourceGroup(lab.SubscriptionId, lab.ResourceGroup).Child("Microsoft.Compute", "virtualMachines", vmName).Value;
    }
}
