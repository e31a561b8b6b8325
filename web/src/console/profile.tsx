// The agent's own profile: the name visitors see and the colour of their
// initials, as colleagues see them.

import type { Me, UserInfo } from "../protocol.gen";
import { avatarColour, colourChoices } from "../lib/avatar";
import { api } from "./api";
import { openForm } from "./dialog";

/** Opens the profile dialog for `user`; `saved` gets what the server stored. */
export function openProfileDialog(user: UserInfo, saved: (me: Me) => void): void {
  openForm({
    title: "Your profile",
    description: "Visitors see your name in the chat; your colleagues see your initials in this colour.",
    fields: [
      { name: "display_name", label: "Display name", value: user.display_name, autocomplete: "name" },
      { name: "colour", label: "Colour", value: user.colour ?? "", options: colourChoices() },
    ],
    submitLabel: "Save",
    onSubmit: async (v) => saved(await api.updateMe({ display_name: v.display_name.trim(), colour: avatarColour(v.colour) })),
  });
}
