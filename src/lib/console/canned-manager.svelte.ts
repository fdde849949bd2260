/** Whether the managers' canned-response editor is open (one dialog for the whole console). */
export const cannedManager = $state({ open: false });
