// A small modal form (change password, reset password, profile, an agent's rights).

import { useSignal } from "@preact/signals";
import { FormFooter, Modal, openModal } from "./modal";

export interface Field {
  name: string;
  label: string;
  type?: string;
  autocomplete?: string;
  value?: string;
  required?: boolean;
  /** A choice among these (value, label) instead of a text input. */
  options?: [string, string][];
}

export interface FormDialog {
  title: string;
  description?: string;
  fields: Field[];
  submitLabel: string;
  /** Resolve to close; throw an Error to show its message and stay open. */
  onSubmit: (values: Record<string, string>) => Promise<void>;
}

export function FormDialogView({ spec, close }: { spec: FormDialog; close: () => void }) {
  const values = useSignal<Record<string, string>>(Object.fromEntries(spec.fields.map((f) => [f.name, f.value ?? ""])));
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const set = (name: string, value: string) => (values.value = { ...values.value, [name]: value });
  const submit = async (ev: Event) => {
    ev.preventDefault();
    busy.value = true;
    error.value = null;
    try {
      await spec.onSubmit(values.value);
      close();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
      busy.value = false;
    }
  };
  return (
    <Modal labelledBy="dlg-title" testid="dialog" onSubmit={submit} onClose={close}>
      <h2 id="dlg-title">{spec.title}</h2>
      {spec.description ? <p class="muted">{spec.description}</p> : null}
      {spec.fields.map((f) => (
        <label class="field" for={`dlg-${f.name}`} key={f.name}>
          <span>{f.label}</span>
          {f.options ? (
            <select id={`dlg-${f.name}`} name={f.name} data-testid={`dialog-${f.name}`} value={values.value[f.name]} onChange={(ev) => set(f.name, ev.currentTarget.value)}>
              {f.options.map(([value, label]) => (
                <option value={value}>{label}</option>
              ))}
            </select>
          ) : (
            <input
              id={`dlg-${f.name}`}
              name={f.name}
              type={(f.type || "text") as "text"}
              autocomplete={f.autocomplete || "off"}
              required={f.required !== false}
              data-testid={`dialog-${f.name}`}
              value={values.value[f.name]}
              onInput={(ev) => set(f.name, ev.currentTarget.value)}
            />
          )}
        </label>
      ))}
      <FormFooter error={error.value} onCancel={close} submitLabel={spec.submitLabel} disabled={busy.value} />
    </Modal>
  );
}

export function openForm(spec: FormDialog): void {
  openModal((close) => <FormDialogView spec={spec} close={close} />);
}
