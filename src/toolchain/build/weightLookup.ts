/** One tensor of weights.safetensors, as the bundle reader gives it. */
export interface WeightTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

export type WeightLookup = (name: string) => WeightTensor | undefined;
