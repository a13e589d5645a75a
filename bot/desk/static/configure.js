// The meeting tab's configuration page: Teams saves the panel's address for this meeting.
(async () => {
  const teams = window.microsoftTeams;
  if (!teams || window.parent === window) return;
  await teams.app.initialize();
  teams.pages.config.registerOnSaveHandler((save) => {
    teams.pages.config.setConfig({
      entityId: "marac-panel", suggestedDisplayName: "MARAC",
      contentUrl: `${location.origin}/desk/panel`, websiteUrl: `${location.origin}/desk/panel`,
    }).then(() => save.notifySuccess(), (error) => save.notifyFailure(String(error)));
  });
  teams.pages.config.setValidityState(true);
})();
